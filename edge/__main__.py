"""`python -m edge` / `ioc-edge`: the gateway agent's own command line, without the cloud's
commands and their libraries (a gateway's memory is small; `ioc edge …` works too)."""

from edge.cli import edge_app

edge_app(prog_name="ioc-edge")
