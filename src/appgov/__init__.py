"""appgov: self-hosted third-party app governance for SaaS tenants (Atlassian Cloud first).

Packages, one per concern, grow here as the roadmap lands: connectors, sync engine, storage,
governance, web and jobs. The Atlassian Cloud simulator lives beside this package as
``appgov_sim`` and is never imported from here.
"""

__version__ = "0.1.0"
