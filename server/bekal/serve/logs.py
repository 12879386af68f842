"""The server's log: one line per event on stderr, tagged with the worker it comes from."""

from __future__ import annotations

import logging
import sys


def setup_logging(level: str, tag: str = "") -> None:
    fmt = f"%(asctime)s %(levelname)s bekal{tag}: %(message)s"
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    root.addHandler(handler)
    root.setLevel(level)
