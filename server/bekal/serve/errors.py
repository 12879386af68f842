"""The server process's errors."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the setting and where it came from."""
