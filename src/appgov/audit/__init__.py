"""The audit trail: who (a ``Principal``) did what to which target, kept after the target is gone."""
