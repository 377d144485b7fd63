"""Connectors: one subpackage per SaaS platform, each speaking that platform's APIs."""
