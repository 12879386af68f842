"""The matching library's errors."""

from __future__ import annotations


class InvalidInstance(ValueError):
    """The instance is malformed; ``field`` names the offending input (e.g. ``clients[3].id``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
