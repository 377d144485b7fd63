"""Who does the work of jobs: the in-process runner (``runner``) and the handler of each kind
(``registry``: ``sync_job`` today), the scheduler that queues periodic and deferred syncs, grant
upkeep, and the background loops of ``appgov serve`` that run them all (``background``). A Celery
worker will sit here beside the runner, calling the same ``jobs.lifecycle`` functions."""
