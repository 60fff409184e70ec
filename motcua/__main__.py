"""`python -m motcua`: the command line, as the `motcua` script runs it."""

from motcua.app import app

app(prog_name="motcua")
