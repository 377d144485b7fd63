"""``python -m appgov_sim``: the same as ``appgov-sim``."""

from appgov_sim.cli import app

app()
