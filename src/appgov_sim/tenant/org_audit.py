"""The organization audit log's "App actions" (docs/simulator/admin-faults.md, "App actions").

Atlassian's admin audit log lists app installs, uninstalls, enables, disables and updates under the
category "App actions", with the display names below, verbatim from Atlassian's "Track organization
activities from the audit log" page (the project's governance notes, audit-events §1). Atlassian
publishes no machine ``action`` ids for them [U]: the ids here are invented [I], and a client must
map them by ``GET …/event-actions``' display names, as the real log requires. Which object types the
events' ``context`` and ``container`` carry for an app is not documented either [U]: here the app is
a ``context`` of type ``apps`` and the site a ``container`` of type ``sites`` [I].
"""

from __future__ import annotations

import uuid

from appgov_sim.tenant.model import InstalledApp, Organization, OrgEvent, Site

APP_ACTIONS_GROUP = "App actions"
# action id [I] -> display name (verbatim, audit-events §1)
APP_ACTIONS = {
    "app_install_success": "App successful installation",
    "app_uninstall_success": "App successful uninstallation",
    "app_enable_success": "App enable success",
    "app_disable_success": "App disable success",
    "app_update_success": "App update success",
    "app_auto_update_failed_permission_required": "App auto updated failed (permission required)",
}


def app_event(
    org: Organization, site: Site, app: InstalledApp, action: str, actor: str, at_ms: int
) -> OrgEvent:
    """Append an "App actions" event to the organization's log (kept oldest first). Its id derives
    from what it records, so a journal replay makes the same event."""
    event = OrgEvent(
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"{site.name}/{app.key}/{action}/{at_ms}/{len(org.events)}")),
        at_ms,
        action,
        actor,
        f"{APP_ACTIONS[action]}: {app.name}",
        actor,
        app_key=app.key,
        app_name=app.name,
        site_name=site.name,
        site_cloud_id=site.cloud_id,
    )
    org.events.append(event)
    if len(org.events) > 1 and org.events[-2].time_ms > at_ms:
        org.events.sort(key=lambda e: e.time_ms)
    return event
