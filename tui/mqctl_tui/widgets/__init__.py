"""Widgets, grouped by area (one small module per widget)."""
