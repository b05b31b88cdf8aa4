"""Detail widgets."""
