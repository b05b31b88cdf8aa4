"""Actions widgets."""
