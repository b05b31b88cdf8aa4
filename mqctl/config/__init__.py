"""Config file, contexts and secrets (docs/config.md)."""

from mqctl.config.loader import load_config, resolve_context
from mqctl.config.schema import Config, Context

__all__ = ["Config", "Context", "load_config", "resolve_context"]
