"""The Universal Plugin Manager (UPM) REST API on a site (references §3).

Jira serves it at ``/rest/plugins/1.0/`` and Confluence at ``/wiki/rest/plugins/1.0/``; only site
admins with Basic auth may call it (no OAuth scope exists, so there is no gateway route). Changes go
through ``appgov_sim.tenant.mutations`` and the journal, like the control API's. Choices where the
facts are inferred are written down in docs/simulator/apps.md.
"""

from __future__ import annotations

import secrets
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from appgov_sim.endpoint import Requirement, SiteContext, site_endpoint
from appgov_sim.http import ApiError, JSONResponse
from appgov_sim.routes.marketplace import iso_timestamp
from appgov_sim.state import SimState
from appgov_sim.tenant import mutations
from appgov_sim.tenant.model import InstalledApp
from appgov_sim.tenant.mutations import MutationError, journaled

UPM = Requirement("upm", admin=True, gateway=False)
ROOT = "/rest/plugins/1.0"
INSTALLED_TYPE = "application/vnd.atl.plugins.installed+json"
PLUGIN_TYPE = "application/vnd.atl.plugins.plugin+json"
TASK_TYPE = "application/vnd.atl.plugins.pending-task+json"  # [I]
INSTALL_TYPES = ("application/vnd.atl.plugins.remote.install+json", "application/json")
DOWNLOADING_TYPE = "application/vnd.atl.plugins.install.downloading+json"
INSTALLED_TASK_TYPE = "application/vnd.atl.plugins.install.installed+json"  # [I]
TASK_ERROR_TYPE = "application/vnd.atl.plugins.task.install.err+json"
PING_AFTER_MS = 300
KEEP = 1000  # tokens and tasks remembered per simulator; the oldest are forgotten first [I]
NOT_FROM_MARKETPLACE = "upm.pluginInstall.error.descriptor.not.from.marketplace"


@dataclass(slots=True)
class InstallTask:
    """An install requested with ``POST ?token=``. It finishes at once; only the 202 shows it pending."""

    task_id: str
    site: str
    product: str
    account_id: str
    source: str  # the pluginUri
    timestamp_ms: int
    key: str | None = None
    error: MutationError | None = None


@dataclass(slots=True)
class PluginManagerSession:
    """Single-use upm-tokens (token -> site and account) and install tasks; UPM forgets both on restart."""

    tokens: OrderedDict[str, tuple[str, str]] = field(default_factory=OrderedDict)
    tasks: OrderedDict[str, InstallTask] = field(default_factory=OrderedDict)

    def issue_token(self, site: str, account_id: str) -> str:
        token = secrets.token_hex(16)
        _remember(self.tokens, token, (site, account_id))
        return token

    def spend_token(self, token: str | None, site: str, account_id: str) -> bool:
        return self.tokens.pop(token or "", None) == (site, account_id)


# transient, so kept beside SimState rather than in what it persists
_SESSIONS: weakref.WeakKeyDictionary[SimState, PluginManagerSession] = weakref.WeakKeyDictionary()


def _session(state: SimState) -> PluginManagerSession:
    return _SESSIONS.setdefault(state, PluginManagerSession())


def _remember(book: OrderedDict[str, Any], key: str, value: Any) -> None:
    book[key] = value
    while len(book) > KEEP:
        book.popitem(last=False)


# --- where things are ---------------------------------------------------------------------------


def _product(ctx: SiteContext) -> str:
    return "confluence" if ctx.path.startswith("/wiki/") else "jira"


def _root(ctx: SiteContext) -> str:
    """UPM's links are host-relative; the simulator's site host is the ``/sites/{name}`` prefix [I]."""
    wiki = "/wiki" if _product(ctx) == "confluence" else ""
    return f"{urlsplit(ctx.base).path}{wiki}{ROOT}"


def _plugin_path(ctx: SiteContext, key: str) -> str:
    return f"{_root(ctx)}/{quote(key, safe='')}-key"


def _actor(ctx: SiteContext) -> str:
    return ctx.account.account_id if ctx.account else ""


def _now_ms(ctx: SiteContext) -> int:
    return int(ctx.state.clock.time() * 1000)


def _listed(ctx: SiteContext) -> list[InstalledApp]:
    """The product's plugins; Forge apps only where the ``forge_apps`` switch shows them here."""
    shown = ctx.state.tenant.switches.in_plugin_manager
    return [a for a in ctx.site.apps_for(_product(ctx)) if shown(a)]


def _app(ctx: SiteContext) -> InstalledApp:
    key = ctx.request.path_params["plugin_key"]
    app = next((a for a in _listed(ctx) if a.key == key), None)
    if app is None:
        raise ApiError(404, f"The plugin {key} is not installed.", sub_code="upm.plugin.not.found")
    return app


# --- rendering (references §3.3) -----------------------------------------------------------------


def render_plugin(ctx: SiteContext, app: InstalledApp) -> dict[str, Any]:
    """The plugin detail object, key for key as §3.3 shows it."""
    path = _plugin_path(ctx, app.key)
    third_party = app.user_installed
    return {
        "key": app.key,
        "name": app.name,
        "version": app.version,
        "description": app.description,
        "enabled": app.enabled,
        "enabledByDefault": True,
        "userInstalled": app.user_installed,
        "optional": third_party,
        "static": False,
        "unloadable": False,
        "unrecognisedModuleTypes": False,
        "usesLicensing": third_party,
        "remotable": app.framework in ("connect", "forge"),
        "vendor": _vendor(ctx, app),
        "modules": [_module(app, module, path) for module in app.modules],
        "links": {
            "self": path,
            "plugin-summary": f"{path}/summary",
            "plugin-icon": f"{path}/media/plugin-icon",
            "plugin-logo": f"{path}/media/plugin-logo",
            "manage": ctx.url(
                f"{'/wiki' if app.product == 'confluence' else ''}/plugins/servlet/upm"
                f"?fragment=manage%2F{quote(app.key, safe='')}"
            ),
            "license": f"{path}/license",
        },
    }


def _vendor(ctx: SiteContext, app: InstalledApp) -> dict[str, Any]:
    listing = ctx.state.tenant.listings.get(app.key)
    vendor: dict[str, Any] = {"name": app.vendor_name}
    if listing is not None and not listing.private:
        vendor["marketplaceLink"] = f"{ctx.state.base_url}/marketplace/vendors/{listing.vendor.vendor_id}"
    vendor["link"] = app.vendor_link
    return vendor


def _module(app: InstalledApp, module: str, plugin_path: str) -> dict[str, Any]:
    return {
        "key": module,
        "completeKey": f"{app.key}:{module}",
        "name": module.replace("-", " ").capitalize(),
        "enabled": app.enabled,
        "optional": True,
        "recognisableType": True,
        "broken": False,
        "links": {"self": f"{plugin_path}/modules/{quote(module, safe='')}-key", "plugin": plugin_path},
    }


def render_task(ctx: SiteContext, task: InstallTask, done: bool) -> dict[str, Any]:
    """The pending-task object of §3.3, plus a top-level ``done`` that K15t's client reads [I]."""
    name = urlsplit(task.source).path.rsplit("/", 1)[-1] or task.source
    status: dict[str, Any] = {
        "done": done,
        "statusCode": 200,
        "contentType": DOWNLOADING_TYPE if not done else INSTALLED_TASK_TYPE,
        "source": name,
        "name": name,
    }
    body: dict[str, Any] = {
        "type": "INSTALL",
        "pingAfter": PING_AFTER_MS,
        "done": done,
        "status": status,
        "links": {
            "self": f"{_root(ctx)}/pending/{task.task_id}",
            "alternate": f"{_root(ctx)}/tasks/{task.task_id}",
        },
        "timestamp": task.timestamp_ms,
        "accountId": task.account_id,
        "id": task.task_id,
    }
    if done and task.error is not None:
        status.update(
            contentType=TASK_ERROR_TYPE,
            statusCode=task.error.status,
            errorMessage=task.error.message,
            subCode=task.error.sub_code,
        )
        body["error"] = {"code": task.error.sub_code, "message": task.error.message}
    elif done and task.key is not None:
        body["links"]["plugin"] = _plugin_path(ctx, task.key)
    return body


# --- handlers -----------------------------------------------------------------------------------


@site_endpoint(UPM)
async def list_plugins(ctx: SiteContext) -> Response:
    """GET and HEAD /rest/plugins/1.0/: every plugin, and a fresh single-use upm-token header."""
    plugins = []
    for app in _listed(ctx):
        summary = render_plugin(ctx, app)
        del summary["modules"]  # list entries are summaries [I]
        plugins.append(summary)
    token = _session(ctx.state).issue_token(ctx.site.name, _actor(ctx))
    body = {"plugins": plugins, "links": {"self": f"{_root(ctx)}/"}}
    return JSONResponse(body, headers={"upm-token": token}, media_type=INSTALLED_TYPE)


@site_endpoint(UPM)
async def plugin_detail(ctx: SiteContext) -> Response:
    return JSONResponse(render_plugin(ctx, _app(ctx)), media_type=PLUGIN_TYPE)


@site_endpoint(UPM)
async def update_plugin(ctx: SiteContext) -> Response:
    """PUT {key}-key with the plugin JSON, ``enabled`` changed: enables or disables the app."""
    app = _app(ctx)
    enabled = (await _json_body(ctx.request)).get("enabled")
    if not isinstance(enabled, bool):
        raise ApiError(400, "The plugin representation needs a boolean 'enabled'.")
    if enabled != app.enabled:
        _change(ctx, mutations.set_app_enabled, key=app.key, enabled=enabled)
    return JSONResponse(render_plugin(ctx, app), media_type=PLUGIN_TYPE)


@site_endpoint(UPM)
async def uninstall_plugin(ctx: SiteContext) -> Response:
    app = _app(ctx)
    _change(ctx, mutations.uninstall_app, key=app.key)
    return Response(status_code=204)


@site_endpoint(UPM)
async def install_plugin(ctx: SiteContext) -> Response:
    """POST /?token=: install (or upgrade) from a descriptor URI; answers 202 with a pending task."""
    if not _session(ctx.state).spend_token(ctx.params.get("token"), ctx.site.name, _actor(ctx)):
        raise ApiError(403, "invalid token", sub_code="upm.error.invalid.token")
    content_type = ctx.request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in INSTALL_TYPES:
        raise ApiError(415, f"Unsupported media type: {content_type or 'none'}")
    uri = (await _json_body(ctx.request)).get("pluginUri")
    if not isinstance(uri, str) or not uri:
        raise ApiError(400, "The install request needs a 'pluginUri'.", sub_code=NOT_FROM_MARKETPLACE)
    task = InstallTask(uuid.uuid4().hex, ctx.site.name, _product(ctx), _actor(ctx), uri, _now_ms(ctx))
    try:
        task.key = _install_from(ctx, uri)
    except MutationError as err:
        task.error = err
    _remember(_session(ctx.state).tasks, task.task_id, task)
    return JSONResponse(render_task(ctx, task, done=False), 202, media_type=TASK_TYPE)


@site_endpoint(UPM)
async def pending_task(ctx: SiteContext) -> Response:
    """GET pending/{id}: the finished install's plugin JSON, or the task with its error."""
    task = _task(ctx)
    app = next((a for a in ctx.site.apps_for(task.product) if a.key == task.key), None)
    if task.error is None and app is not None:
        return JSONResponse(render_plugin(ctx, app), media_type=PLUGIN_TYPE)
    return JSONResponse(render_task(ctx, task, done=True), media_type=TASK_TYPE)


@site_endpoint(UPM)
async def task_status(ctx: SiteContext) -> Response:
    """GET tasks/{id}: always the task, now done (with ``error`` when it failed)."""
    return JSONResponse(render_task(ctx, _task(ctx), done=True), media_type=TASK_TYPE)


async def _without_trailing_slash(request: Request) -> Response:
    """The collection is only at ``.../1.0/``: without the slash it is an unknown path, not a redirect."""
    raise HTTPException(404)


# --- helpers ------------------------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise ApiError(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return data


def _journal(ctx: SiteContext, change: Callable[..., Any], **args: Any) -> Any:
    """Make a tenant change on behalf of the caller, now, through the journal."""
    return journaled(
        ctx.state,
        change,
        site=ctx.site.name,
        product=_product(ctx),
        actor=_actor(ctx),
        at_ms=_now_ms(ctx),
        **args,
    )


def _change(ctx: SiteContext, change: Callable[..., Any], **args: Any) -> Any:
    """``_journal``, with a refusal answered as UPM's error."""
    try:
        return _journal(ctx, change, **args)
    except MutationError as err:
        raise ApiError(err.status, err.message, sub_code=err.sub_code) from None


def descriptor_app(uri: str) -> tuple[str, str | None] | None:
    """(app key, version) named by a descriptor URI, or None when it names no Marketplace app.

    Accepted: the simulator's Marketplace ``.../marketplace/descriptors/{key}/{version}`` (the key
    may be URL-encoded) and any URI whose query has ``key=<appKey>`` (then the latest version).
    """
    parts = urlsplit(uri)
    query_key = parse_qs(parts.query).get("key")
    if query_key:
        return query_key[0], None
    _, marker, tail = parts.path.partition("/marketplace/descriptors/")
    key, _, version = tail.rpartition("/")
    if not marker or not key or not version:
        return None
    return unquote(key), unquote(version)


def _install_from(ctx: SiteContext, uri: str) -> str:
    """Install the app the URI names, or move it to that version when already installed."""
    named = descriptor_app(uri)
    if named is None:
        raise MutationError(400, f"{uri} is not a Marketplace descriptor", NOT_FROM_MARKETPLACE)
    key, version = named
    installed = next((a for a in ctx.site.apps_for(_product(ctx)) if a.key == key), None)
    try:
        if installed is None:
            bot = mutations.new_account_id()
            _journal(ctx, mutations.install_app, key=key, version=version, bot_account_id=bot)
        elif version is not None and version != installed.version:
            _journal(ctx, mutations.upgrade_app, key=key, version=version)
    except MutationError as err:
        err.sub_code = err.sub_code or "upm.pluginInstall.error.response.exception"
        raise
    return key


def _task(ctx: SiteContext) -> InstallTask:
    task = _session(ctx.state).tasks.get(ctx.request.path_params["task_id"])
    if task is None or task.site != ctx.site.name or task.product != _product(ctx):
        raise ApiError(404, "No such pending task.", sub_code="upm.task.not.found")
    return task


FEED_TITLES = {  # [U] UPM's English rendering of its upm.auditLog.* messages was not found
    "app_installed": "Installed plugin {name} ({key}), version {detail}",
    "app_upgraded": "Upgraded plugin {name} ({key}) to version {detail}",
    "app_enabled": "Enabled plugin {name} ({key})",
    "app_disabled": "Disabled plugin {name} ({key})",
    "app_uninstalled": "Uninstalled plugin {name} ({key}), version {detail}",
}


@site_endpoint(UPM)
async def log_feed(ctx: SiteContext) -> Response:
    """GET log/feed: UPM's audit log as Atom, newest first; ``404`` unless ``upm_log_feed`` is on."""
    if not ctx.state.tenant.switches.upm_log_feed:
        raise ApiError(404, "Not Found")
    records = ctx.site.jira_audit if _product(ctx) == "jira" else ctx.site.confluence_audit
    accounts = ctx.state.tenant.accounts
    entries = []
    for record in reversed(records):
        title = FEED_TITLES.get(record.kind)
        if title is None:
            continue
        author = accounts.get(record.author_account_id)
        text = title.format(name=record.object_name, key=record.object_id, detail=record.detail)
        entries.append(
            "<entry>"
            f'<title type="text">{escape(text)}</title>'
            f"<author><name>{escape(author.display_name if author else record.author_account_id)}</name>"
            f"<uri>{escape(ctx.base)}/people/{escape(record.author_account_id)}</uri></author>"
            f"<updated>{iso_timestamp(record.created_ms)}</updated>"
            f"<id>urn:upm:audit:{ctx.site.cloud_id}:{record.record_id}</id>"
            "</entry>"
        )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Audit log</title>'
        f"<id>urn:upm:audit:{ctx.site.cloud_id}</id>{''.join(entries)}</feed>"
    )
    return Response(body, media_type="application/atom+xml")


def _routes(root: str) -> list[BaseRoute]:
    plugin = f"{root}/{{plugin_key:path}}-key"
    return [
        Route(root, _without_trailing_slash),
        Route(f"{root}/", list_plugins, methods=["GET", "HEAD"]),
        Route(f"{root}/", install_plugin, methods=["POST"]),
        Route(f"{root}/pending/{{task_id}}", pending_task, methods=["GET"]),
        Route(f"{root}/tasks/{{task_id}}", task_status, methods=["GET"]),
        Route(f"{root}/log/feed", log_feed, methods=["GET"]),
        Route(plugin, plugin_detail, methods=["GET"]),
        Route(plugin, update_plugin, methods=["PUT"]),
        Route(plugin, uninstall_plugin, methods=["DELETE"]),
    ]


ROUTES: list[BaseRoute] = [*_routes(ROOT), *_routes(f"/wiki{ROOT}")]
