"""The `motcua` command line."""

from motcua.app import app

__all__ = ["app"]
