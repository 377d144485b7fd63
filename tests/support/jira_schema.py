"""Atlassian's own Jira OpenAPI, turned into JSON Schema validators for the simulator's responses.

The spec (2.4 MB, vendored gzipped under ``tests/vendor/atlassian-jira-openapi`` with its Apache 2.0
licence) is read once per test process. Its schemas are OpenAPI 3.0: ``nullable`` becomes
a ``null`` type, and the few fields the real API sends beyond a closed schema (the ones the fact
sheet shows, such as ``authorAccountId`` on audit records) are added as allowed; every other rule,
``additionalProperties: false`` included, binds. Formats are checked as Jira writes them.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker

VENDOR = Path(__file__).resolve().parents[1] / "vendor" / "atlassian-jira-openapi"
SPEC = Path(os.environ.get("APPGOV_JIRA_OPENAPI", VENDOR / "jira-platform-openapi.json.gz"))

# Fields the real API sends although the schema forbids extra properties (observed; references §4).
OBSERVED_EXTRAS: dict[str, dict[str, Any]] = {
    "AuditRecordBean": {"authorAccountId": {"type": "string"}},
    "ServerInformation": {
        "defaultLocale": {
            "type": "object",
            "properties": {"locale": {"type": "string"}},
            "additionalProperties": False,
        }
    },
}

# Jira writes ISO 8601 with a ``+0000`` offset (references §4), not RFC 3339's ``+00:00``.
JIRA_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})$")

format_checker = FormatChecker(formats=())


@format_checker.checks("date-time")
def is_jira_date_time(instance: object) -> bool:
    return not isinstance(instance, str) or JIRA_DATE_TIME.match(instance) is not None


@format_checker.checks("uri")
def is_uri(instance: object) -> bool:
    """An absolute URL, or an absolute path as Jira gives system avatars (references §4)."""
    if not isinstance(instance, str):
        return True
    parts = urlsplit(instance)
    return bool(parts.scheme and parts.netloc) or (instance.startswith("/") and not parts.scheme)


@format_checker.checks("int32")
def is_int32(instance: object) -> bool:
    return not isinstance(instance, int) or -(2**31) <= instance < 2**31


@format_checker.checks("int64")
def is_int64(instance: object) -> bool:
    return not isinstance(instance, int) or -(2**63) <= instance < 2**63


@format_checker.checks("uuid", raises=ValueError)
def is_uuid(instance: object) -> bool:
    return not isinstance(instance, str) or bool(uuid.UUID(instance))


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable`` as JSON Schema: ``type`` also admits ``null``."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False) and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


@functools.cache
def _spec() -> tuple[dict[str, Any], dict[str, Any]]:
    """The spec's paths and its components turned into JSON Schema, loaded once per process."""
    opener = gzip.open if SPEC.suffix == ".gz" else open
    with opener(SPEC, "rt", encoding="utf-8") as text:  # a missing file fails: the spec is vendored
        spec = json.load(text)
    schemas = _json_schema(copy.deepcopy(spec["components"]["schemas"]))
    for name, extras in OBSERVED_EXTRAS.items():
        schemas[name]["properties"].update(extras)
    return spec["paths"], {"schemas": schemas}


@functools.cache
def validator(path: str, method: str = "get", status: str = "200") -> Draft4Validator:
    """The validator of one operation's response, by its path template in the spec."""
    paths, components = _spec()
    response = paths[path][method]["responses"][status]
    schema = dict(response["content"]["application/json"]["schema"])
    return Draft4Validator({**schema, "components": components}, format_checker=format_checker)


def violations(path: str, body: Any, method: str = "get", status: str = "200") -> list[str]:
    """Every way ``body`` breaks the operation's response schema, as readable lines."""
    errors = validator(path, method, status).iter_errors(body)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in errors]


# --- ground truth -----------------------------------------------------------------------------------


def truth_of(keys: list[str]) -> dict[str, Any]:
    """A data set as ``/_sim/ground-truth`` reports it: the count and sha256 of the sorted keys."""
    digest = hashlib.sha256()
    for key in sorted(keys):
        digest.update(key.encode("utf-8", "surrogatepass") + b"\n")
    return {"count": len(keys), "digest": digest.hexdigest()}


def jira_truth(sim: Any, site: str = "acme") -> dict[str, Any]:
    return dict(sim.ground_truth()["sites"][site]["products"]["jira"])
