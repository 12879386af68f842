"""Who runs a match job: an owner id per worker process, and telling whether that process still lives."""

from __future__ import annotations

import os
import socket
import uuid


def new_owner() -> str:
    """An owner id for this process: ``host:pid:random`` (random tells two lives of one pid apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_alive(owner: str) -> bool | None:
    """Is ``owner``'s process alive? None when it cannot be told (another host): trust its lease."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
