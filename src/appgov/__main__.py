"""``python -m appgov``: the same as ``appgov``."""

from appgov.cli import main

main()
