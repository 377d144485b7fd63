"""Changing who may do what: invitations, roles, revocation rights, disabled accounts, ended sessions
and personal API tokens. Every change is one audited service call here, whichever way it came in
(console, REST API, command line)."""
