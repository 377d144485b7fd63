"""appgov-sim: a faithful, local Atlassian Cloud simulator.

It speaks the real wire protocol of the authorization server, the API gateway, Jira and
Confluence sites (including the plugin manager), the Marketplace and the organization admin
API, over a deterministic tenant generated from (profile, seed). The product never imports it;
tests and ``appgov demo`` run it as a separate process. See this package's README.md.
"""
