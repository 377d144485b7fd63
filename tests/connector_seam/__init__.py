"""A second platform, served over real HTTP by the tests themselves, proving the connector seam: it
registers like a real connector and syncs through the unchanged engine."""
