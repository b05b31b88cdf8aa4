"""Common widgets."""
