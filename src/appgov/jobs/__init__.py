"""Background work: the job queue in the database, the in-process runner that claims jobs under the
domain's lease, and the scheduler that queues periodic and deferred syncs."""
