"""The service layer: async functions over a Session that both the CLI and the TUI call."""
