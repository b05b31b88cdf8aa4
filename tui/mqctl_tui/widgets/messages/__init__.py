"""Messages widgets."""
