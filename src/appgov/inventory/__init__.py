"""The app inventory across domains, and its exports."""
