"""An Atlassian reply's data, or its classified error carrying a reason code: a 401 fails the run
(credentials) unless it is a scope the grant lacks, a 403 or 404 marks the data set *unavailable*
with Atlassian's reason (never empty data), anything else is the data set's error."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from appgov.connectors.atlassian.client import AtlassianError
from appgov.connectors.atlassian.streams import AtlassianStream as Stream
from appgov.connectors.base import CredentialsRejected, Reply, Unavailable
from appgov.outcomes import Code, Outcome

PLAN_WORDS = ("plan", "licen", "paid", "upgrade")  # how Atlassian says its plan does not offer a data set


def _ok(reply: Reply, stream: Stream) -> Any:
    """The reply's data, or the error of a non-2xx reply, carrying its reason code. A GraphQL error
    (HTTP 200, ``errors``, ``data`` null) is classified by the status its ``extensions`` name; an
    optional data set's 404 is no data (the site does not serve it)."""
    reply = _graphql_error(reply) if stream.graphql else reply
    if reply.status < 300 or (reply.status == 404 and stream.optional):
        return reply.data if reply.status < 300 else None
    outcome = _reason(reply, stream)
    detail = outcome.params.get("detail") or f"HTTP {reply.status}"
    if outcome.code is Code.CREDENTIALS_REJECTED:
        raise CredentialsRejected(
            f"Atlassian rejected the credentials ({outcome.params['detail']})",
            reply.status,
            reply.url,
            outcome=outcome,
        )
    if outcome.code is Code.DATASET_FAILED:
        message = f"{stream.name}: HTTP {reply.status} from {reply.url}: {outcome.params['detail']}"
        raise AtlassianError(message, reply.status, reply.url, outcome=outcome)
    message = outcome.text if outcome.code is Code.SCOPE_MISSING else detail
    raise Unavailable(message, reply.status, reply.url, outcome=outcome)


def _graphql_error(reply: Reply) -> Reply:
    body = reply.data if isinstance(reply.data, dict) else {}
    errors = body.get("errors")
    if reply.status >= 300 or not errors or body.get("data") is not None:
        return reply
    first = errors[0] if isinstance(errors[0], dict) else {}
    status = (first.get("extensions") or {}).get("statusCode")
    message = {"message": str(first.get("message") or "GraphQL error")}
    return replace(reply, status=status if isinstance(status, int) and status >= 300 else 500, data=message)


def _reason(reply: Reply, stream: Stream) -> Outcome:
    """The reason code of a non-2xx reply, with Atlassian's own words from any of its error shapes
    (references §7.2) as its detail: a 401 is the credentials (or a scope the grant lacks), a 403 or
    404 makes the data set unavailable (on the app inventory: the account is no site admin; when
    Atlassian names the plan: not on this plan), anything else fails the data set."""
    data = reply.data if isinstance(reply.data, dict) else {}
    messages = data.get("errorMessages") or [data.get("message") or data.get("error_description") or ""]
    detail = "; ".join(str(m) for m in messages if m)[:500]
    if reply.status == 401 and "scope does not match" in detail:
        return Outcome(Code.SCOPE_MISSING, {"scope": stream.scope})
    if reply.status == 401:
        return Outcome(Code.CREDENTIALS_REJECTED, {"detail": detail})
    if reply.status in (403, 404):
        if stream.app_inventory:
            code = Code.NOT_SITE_ADMIN
        elif any(word in detail.lower() for word in PLAN_WORDS):
            code = Code.NOT_ON_PLAN
        else:
            code = Code.DATASET_UNAVAILABLE
        return Outcome(code, {"status": reply.status, "detail": detail})
    return Outcome(Code.DATASET_FAILED, {"status": reply.status, "url": reply.url, "detail": detail})
