"""An Atlassian reply's data, or its classified error: 401 fails the run (credentials), 403 and 404
mark the data set *unavailable* with Atlassian's reason (never empty data), a 401 for a missing
OAuth scope marks it unavailable too, anything else is the data set's error."""

from __future__ import annotations

from typing import Any

from appgov.connectors.atlassian.client import AtlassianError
from appgov.connectors.atlassian.streams import AtlassianStream as Stream
from appgov.connectors.base import CredentialsRejected, Reply, Unavailable


def _ok(reply: Reply, stream: Stream) -> Any:
    """The reply's data, or the classified error of a non-2xx reply."""
    if reply.status < 300:
        return reply.data
    reason = _reason(reply)
    if reply.status == 401 and "scope does not match" in reason:
        raise Unavailable(f"the OAuth grant lacks the scope {stream.scope or 'this data set needs'}")
    if reply.status == 401:
        raise CredentialsRejected(f"Atlassian rejected the credentials ({reason})", reply.status, reply.url)
    if reply.status in (403, 404):
        raise Unavailable(reason or f"HTTP {reply.status}", reply.status, reply.url)
    raise AtlassianError(
        f"{stream.name}: HTTP {reply.status} from {reply.url}: {reason}", reply.status, reply.url
    )


def _reason(reply: Reply) -> str:
    """Atlassian's own words from any of its error shapes (api-facts §7.2)."""
    data = reply.data if isinstance(reply.data, dict) else {}
    messages = data.get("errorMessages") or [data.get("message") or data.get("error_description") or ""]
    return "; ".join(str(m) for m in messages if m)[:500]
