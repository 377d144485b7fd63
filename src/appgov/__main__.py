"""``python -m appgov``: the same as ``appgov``."""

from appgov.cli import app

app()
