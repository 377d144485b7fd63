"""The console and the REST API: FastAPI, server-rendered Jinja2 pages with htmx, sign-in, CSRF and
security headers. Pages and API call the same services (``appgov.integrations``, ``appgov.jobs``);
nothing here talks to Atlassian directly."""
