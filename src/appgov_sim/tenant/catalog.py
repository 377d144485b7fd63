"""Fixed catalogues the generator draws from: Jira's permissions and system fields, the bundled
plugins, and the scopes each app framework can declare."""

APP_NOUNS = (
    "Timesheets",
    "Reports",
    "Diagrams",
    "Checklists",
    "Planner",
    "Automation",
    "Forms",
    "Backup",
    "Exporter",
    "Insights",
    "Roadmaps",
    "Sync",
    "Approvals",
    "Translator",
    "Dashboards",
    "Gantt",
)

# Connect descriptor scopes (references §3.5), Forge and OAuth 2.0 scopes. The first four of each
# pool are what a first version declares; later versions may add any of the pool.
SCOPE_POOLS: dict[str, tuple[str, ...]] = {
    "connect": ("READ", "WRITE", "ACCESS_EMAIL_ADDRESSES", "DELETE", "ACT_AS_USER", "PROJECT_ADMIN", "ADMIN"),
    "forge": (
        "read:jira-work",
        "read:jira-user",
        "storage:app",
        "read:confluence-content.summary",
        "write:jira-work",
        "manage:jira-configuration",
        "read:confluence-space.summary",
        "write:confluence-content",
        "manage:jira-project",
        "read:email-address:jira",
    ),
    "oauth": (
        "read:jira-work",
        "read:jira-user",
        "offline_access",
        "read:me",
        "write:jira-work",
        "manage:jira-configuration",
        "read:confluence-content.all",
        "manage:confluence-configuration",
    ),
}

EGRESS_DOMAINS = (
    "api.segment.io",
    "*.amazonaws.com",
    "hooks.slack.com",
    "api.openai.com",
    "storage.googleapis.com",
    "telemetry.vendor.example",
    "*.ngrok.io",
)

SYSTEM_PLUGINS: dict[str, tuple[tuple[str, str], ...]] = {
    "jira": (
        ("com.atlassian.jira.plugin.system.reports", "Jira Reports Plugin"),
        ("com.atlassian.jira.jira-projects-plugin", "Jira Projects Plugin"),
        (
            "com.atlassian.upm.atlassian-universal-plugin-manager-plugin",
            "Atlassian Universal Plugin Manager Plugin",
        ),
        ("com.atlassian.jira.plugins.jira-workflow-designer", "Jira Workflow Designer"),
        ("com.atlassian.servicedesk", "Jira Service Management"),
    ),
    "confluence": (
        (
            "com.atlassian.confluence.plugins.confluence-create-content-plugin",
            "Confluence Create Content Plugin",
        ),
        (
            "com.atlassian.upm.atlassian-universal-plugin-manager-plugin",
            "Atlassian Universal Plugin Manager Plugin",
        ),
        ("com.atlassian.confluence.plugins.confluence-questions", "Confluence Questions"),
        ("confluence.macros.advanced", "Advanced Macros"),
    ),
}

SYSTEM_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("summary", "Summary", "string"),
    ("description", "Description", "string"),
    ("issuetype", "Issue Type", "issuetype"),
    ("project", "Project", "project"),
    ("status", "Status", "status"),
    ("priority", "Priority", "priority"),
    ("assignee", "Assignee", "user"),
    ("reporter", "Reporter", "user"),
    ("creator", "Creator", "user"),
    ("labels", "Labels", "array"),
    ("components", "Components", "array"),
    ("fixVersions", "Fix versions", "array"),
    ("versions", "Affects versions", "array"),
    ("created", "Created", "datetime"),
    ("updated", "Updated", "datetime"),
    ("resolution", "Resolution", "resolution"),
    ("resolutiondate", "Resolved", "datetime"),
    ("duedate", "Due date", "date"),
    ("environment", "Environment", "string"),
    ("attachment", "Attachment", "array"),
    ("comment", "Comment", "comments-page"),
    ("issuelinks", "Linked Issues", "array"),
    ("security", "Security Level", "securitylevel"),
    ("timetracking", "Time tracking", "timetracking"),
    ("worklog", "Log Work", "array"),
    ("watches", "Watchers", "watches"),
    ("votes", "Votes", "votes"),
    ("parent", "Parent", "issuelink"),
)

CUSTOM_FIELD_TYPES: tuple[tuple[str, str], ...] = (
    ("com.atlassian.jira.plugin.system.customfieldtypes:textfield", "string"),
    ("com.atlassian.jira.plugin.system.customfieldtypes:select", "option"),
    ("com.atlassian.jira.plugin.system.customfieldtypes:userpicker", "user"),
    ("com.atlassian.jira.plugin.system.customfieldtypes:datepicker", "date"),
    ("com.atlassian.jira.plugin.system.customfieldtypes:float", "number"),
    ("com.atlassian.jira.plugin.system.customfieldtypes:multiselect", "array"),
)

# (key, name, type, description) as GET /rest/api/3/permissions lists them.
PERMISSIONS: tuple[tuple[str, str, str, str], ...] = (
    (
        "ADMINISTER",
        "Administer Jira",
        "GLOBAL",
        "Create and administer projects, issue types, fields, and more.",
    ),
    ("SYSTEM_ADMIN", "Administer Jira", "GLOBAL", "Ability to perform all administration functions."),
    (
        "USER_PICKER",
        "Browse users and groups",
        "GLOBAL",
        "View and select users or groups from the user picker.",
    ),
    (
        "CREATE_SHARED_OBJECTS",
        "Share dashboards and filters",
        "GLOBAL",
        "Share dashboards and filters with other users.",
    ),
    (
        "MANAGE_GROUP_FILTER_SUBSCRIPTIONS",
        "Manage group filter subscriptions",
        "GLOBAL",
        "Create and delete group filter subscriptions.",
    ),
    ("BULK_CHANGE", "Make bulk changes", "GLOBAL", "Modify collections of issues at once."),
    ("ADMINISTER_PROJECTS", "Administer Projects", "PROJECT", "Ability to administer a project in Jira."),
    (
        "BROWSE_PROJECTS",
        "Browse Projects",
        "PROJECT",
        "Ability to browse projects and the issues within them.",
    ),
    (
        "VIEW_DEV_TOOLS",
        "View Development Tools",
        "PROJECT",
        "Allows users to view development-related information.",
    ),
    (
        "VIEW_READONLY_WORKFLOW",
        "View Read-Only Workflow",
        "PROJECT",
        "Users with this permission may view a read-only version of a workflow.",
    ),
    ("CREATE_ISSUES", "Create Issues", "PROJECT", "Ability to create issues."),
    ("EDIT_ISSUES", "Edit Issues", "PROJECT", "Ability to edit issues."),
    ("TRANSITION_ISSUES", "Transition Issues", "PROJECT", "Ability to transition issues."),
    ("SCHEDULE_ISSUES", "Schedule Issues", "PROJECT", "Ability to set or edit an issue's due date."),
    (
        "MOVE_ISSUES",
        "Move Issues",
        "PROJECT",
        "Ability to move issues between projects or between workflows.",
    ),
    ("ASSIGN_ISSUES", "Assign Issues", "PROJECT", "Ability to assign issues to other people."),
    (
        "ASSIGNABLE_USER",
        "Assignable User",
        "PROJECT",
        "Users with this permission may be assigned to issues.",
    ),
    ("RESOLVE_ISSUES", "Resolve Issues", "PROJECT", "Ability to resolve and reopen issues."),
    ("CLOSE_ISSUES", "Close Issues", "PROJECT", "Ability to close issues."),
    (
        "MODIFY_REPORTER",
        "Modify Reporter",
        "PROJECT",
        "Ability to modify the reporter when creating or editing an issue.",
    ),
    ("DELETE_ISSUES", "Delete Issues", "PROJECT", "Ability to delete issues."),
    ("LINK_ISSUES", "Link Issues", "PROJECT", "Ability to link issues together."),
    (
        "SET_ISSUE_SECURITY",
        "Set Issue Security",
        "PROJECT",
        "Ability to set the level of security on an issue.",
    ),
    (
        "VIEW_VOTERS_AND_WATCHERS",
        "View Voters and Watchers",
        "PROJECT",
        "Ability to view the voters and watchers of an issue.",
    ),
    ("MANAGE_WATCHERS", "Manage Watchers", "PROJECT", "Ability to manage the watchers of an issue."),
    ("ADD_COMMENTS", "Add Comments", "PROJECT", "Ability to comment on issues."),
    ("EDIT_ALL_COMMENTS", "Edit All Comments", "PROJECT", "Ability to edit all comments made on issues."),
    (
        "DELETE_ALL_COMMENTS",
        "Delete All Comments",
        "PROJECT",
        "Ability to delete all comments made on issues.",
    ),
    (
        "CREATE_ATTACHMENTS",
        "Create Attachments",
        "PROJECT",
        "Users with this permission may create attachments.",
    ),
    (
        "DELETE_ALL_ATTACHMENTS",
        "Delete All Attachments",
        "PROJECT",
        "Users with this permission may delete all attachments.",
    ),
    ("WORK_ON_ISSUES", "Work On Issues", "PROJECT", "Ability to log work done against an issue."),
    (
        "DELETE_ALL_WORKLOGS",
        "Delete All Worklogs",
        "PROJECT",
        "Ability to delete all worklogs made on issues.",
    ),
)

PROJECT_PERMISSIONS: tuple[str, ...] = tuple(p[0] for p in PERMISSIONS if p[2] == "PROJECT")

# Jira's numeric permission ids, as mypermissions reports them [I]: from Jira's permission constants.
PERMISSION_IDS: dict[str, str] = {
    "ADMINISTER": "0",
    "SYSTEM_ADMIN": "44",
    "USER_PICKER": "27",
    "CREATE_SHARED_OBJECTS": "22",
    "MANAGE_GROUP_FILTER_SUBSCRIPTIONS": "24",
    "BULK_CHANGE": "33",
    "ADMINISTER_PROJECTS": "23",
    "BROWSE_PROJECTS": "10",
    "VIEW_DEV_TOOLS": "29",
    "VIEW_READONLY_WORKFLOW": "45",
    "CREATE_ISSUES": "11",
    "EDIT_ISSUES": "12",
    "TRANSITION_ISSUES": "46",
    "SCHEDULE_ISSUES": "28",
    "MOVE_ISSUES": "25",
    "ASSIGN_ISSUES": "13",
    "ASSIGNABLE_USER": "17",
    "RESOLVE_ISSUES": "14",
    "CLOSE_ISSUES": "18",
    "MODIFY_REPORTER": "30",
    "DELETE_ISSUES": "16",
    "LINK_ISSUES": "21",
    "SET_ISSUE_SECURITY": "26",
    "VIEW_VOTERS_AND_WATCHERS": "31",
    "MANAGE_WATCHERS": "32",
    "ADD_COMMENTS": "15",
    "EDIT_ALL_COMMENTS": "34",
    "DELETE_ALL_COMMENTS": "36",
    "CREATE_ATTACHMENTS": "19",
    "DELETE_ALL_ATTACHMENTS": "38",
    "WORK_ON_ISSUES": "20",
    "DELETE_ALL_WORKLOGS": "43",
}

# Global permissions by who holds them [I]: administrators hold every one; anyone with product
# access (a member of an application role's group) holds the everyday ones, as Jira's defaults grant.
ADMIN_ONLY_GLOBAL_PERMISSIONS = frozenset({"ADMINISTER", "SYSTEM_ADMIN"})

# GET /rest/api/3/configuration: the example in Atlassian's reference (references §4).
JIRA_CONFIGURATION = {
    "votingEnabled": True,
    "watchingEnabled": True,
    "unassignedIssuesAllowed": False,
    "subTasksEnabled": True,
    "issueLinkingEnabled": True,
    "timeTrackingEnabled": True,
    "attachmentsEnabled": True,
    "timeTrackingConfiguration": {
        "workingHoursPerDay": 8.0,
        "workingDaysPerWeek": 5.0,
        "timeFormat": "pretty",
        "defaultUnit": "minute",
    },
}

# GET /rest/api/3/mypreferences?key=: the documented keys and their defaults (S1 narrative).
USER_PREFERENCES: dict[str, str] = {
    "user.notifications.mimetype": "html",
    "user.default.share.private": "true",
    "user.keyboard.shortcuts.disabled": "false",
    "user.notify.own.changes": "false",
    "user.notifications.watcher": "true",
    "user.notifications.assignee": "true",
    "user.notifications.reporter": "true",
    "user.notifications.mentions": "true",
}

# GET /rest/api/3/avatar/{type}/system: the first system avatar id of each owner type, and how many [I].
SYSTEM_AVATARS: dict[str, tuple[int, int]] = {
    "issuetype": (10300, 24),
    "project": (10400, 26),
    "user": (10070, 24),
    "priority": (10600, 6),
}
AVATAR_SIZES: tuple[tuple[str, str], ...] = (
    ("16x16", "xsmall"),
    ("24x24", "small"),
    ("32x32", "medium"),
    ("48x48", "large"),
)

# How each Jira audit record kind reads [I] (references §9: Atlassian's strings for app events are
# unverified): summary, category, and the objectItem's typeName. Every app event is in category
# "apps", so ``filter=app`` finds them all.
AUDIT_KINDS: dict[str, tuple[str, str, str]] = {
    "group_created": ("Group created", "group management", "GROUP"),
    "member_added": ("User added to group", "group management", "USER"),
    "user_created": ("User created", "user management", "USER"),
    "scheme_updated": ("Permission scheme updated", "permissions", "PERMISSION_SCHEME"),
    "project_created": ("Project created", "projects", "PROJECT"),
    "app_installed": ("App installed", "apps", "APP"),
    "app_upgraded": ("App upgraded", "apps", "APP"),
    "app_disabled": ("App disabled", "apps", "APP"),
    "app_enabled": ("App enabled", "apps", "APP"),
    "app_uninstalled": ("App uninstalled", "apps", "APP"),
    "oauth_authorized": ("OAuth 2.0 app authorized", "apps", "OAUTH_2_APP"),
}
# The parent of users and groups in Jira Cloud's audit log (references §4 example).
IDENTITY_DIRECTORY = ("1", "com.atlassian.crowd.directory.IdentityPlatformRemoteDirectory")
