"""The Typer CLI: thin views over :mod:`mqctl.services`."""
