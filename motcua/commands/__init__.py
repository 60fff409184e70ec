"""The commands, one module per area; `motcua.app` puts them together."""
