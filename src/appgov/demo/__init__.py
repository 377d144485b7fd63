"""``appgov demo``: the simulator and the console side by side, with demo sites connected through
the real consent flow over HTTP (never by writing tokens into the database)."""
