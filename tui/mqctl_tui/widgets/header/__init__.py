"""Header widgets."""
