"""Rendering results as table, json, jsonl or yaml (docs/output.md)."""
