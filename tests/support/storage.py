"""Storage trouble on purpose: a read-only database file (even as root), a full disk."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` cannot be written while inside: ``chmod 444``, or as root (whom modes do not stop) the
    immutable attribute (``chattr +i``). Skips the test where neither works."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root, and the file system refuses chattr +i: no read-only file to test with")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def fill_disk(db: sqlite3.Connection) -> None:
    """The database cannot grow any more on this connection: every write that needs a page fails with
    SQLITE_FULL ("database or disk is full"), as on a full disk."""
    (pages,) = db.execute("PRAGMA page_count").fetchone()
    db.execute(f"PRAGMA max_page_count = {pages}")


def free_disk(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA max_page_count = 1073741823")
