"""The job queue in the database: jobs and their kinds (``kinds``), queueing them (``queue``), and the
lifecycle any worker calls (``lifecycle``: claim, renew, settle, give back, cancel). Who runs the jobs
is ``appgov.workers``'s."""
