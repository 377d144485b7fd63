"""HTTP routes, one module per Atlassian surface; each exports ``ROUTES``."""
