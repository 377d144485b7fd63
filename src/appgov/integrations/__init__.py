"""Integrations: connecting SaaS domains (today Atlassian sites), their credentials and their status."""
