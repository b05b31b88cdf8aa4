"""Textual TUI for mqctl."""
