"""The secret key behind the store's keyed digests, and the digests themselves.

A request's fingerprint (a SHA-256 of its content, computed by the service) would
let anyone holding the database test guesses of the facts behind it -- birth date,
rehabilitation stage, consent -- so the store never keeps it. It keeps
``HMAC-SHA256(key, fingerprint)`` (:func:`keyed`), which is useless without the key:
a retry (same request id, same content) still gets the same keyed digest, and a
request id reused for different content still does not.

The key file (``secret_file``; default ``bekal.key`` next to the database file):

- holds **64 hexadecimal characters** (32 random bytes) and optionally a newline
  -- text, so it can be kept in a secret manager and compared by eye;
- must be readable by its owner only (mode ``0600`` or ``0400``): a key file the
  group or others may access is refused (the server does not start);
- is created when missing, with mode ``0600``: written under a temporary name
  (created with ``O_EXCL``), then linked to its name, which fails if the name
  exists -- so when several worker processes start at once, exactly one key is
  created, and every other process reads the winner's complete file;
- is never logged, nor any part of it (a *key id*, an HMAC of a constant, tells
  two keys apart without revealing them).

A database remembers the key id of the key it was written with
(:func:`check_key`): opening it with another key is refused, because every
retry of an earlier request would then look like a conflict. ``:memory:`` gets a
random key per store.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
import uuid
from pathlib import Path
from typing import Any, Protocol

from bekal.store.errors import StoreError

KEY_BYTES = 32
KEY_FILE_NAME = "bekal.key"

__all__ = ["KEY_BYTES", "KEY_FILE_NAME", "SecretFileError", "check_key", "default_secret_file", "key_fingerprints",
           "key_id", "keyed", "load_or_create", "secret_for"]


class SecretFileError(StoreError):
    """The secret key file cannot be read, created or trusted (one line, never the key)."""


def keyed(secret: bytes, digest: str) -> str:
    """``HMAC-SHA256(secret, digest)`` in hex: what the store keeps instead of a request's digest."""
    return hmac.new(secret, digest.encode(), hashlib.sha256).hexdigest()


class _Functions(Protocol):
    def create_function(self, name: str, narg: int, func: Any, *, deterministic: bool = False) -> None: ...


def key_fingerprints(db: _Functions, cur: _Cursor, secret: bytes, table: str) -> int:
    """In a store's migration transaction: replace the plain request digests in ``table``'s
    ``fingerprint`` column by their keyed form (:func:`keyed`), so retries are still recognised;
    how many rows it changed."""
    db.create_function("bekal_keyed", 1, lambda fp: keyed(secret, str(fp)), deterministic=True)
    return int(cur.execute(f"UPDATE {table} SET fingerprint = bekal_keyed(fingerprint)").rowcount)


def key_id(secret: bytes) -> str:
    """A short name for a key that reveals nothing of it: tells two keys apart."""
    return hmac.new(secret, b"bekal key id v1", hashlib.sha256).hexdigest()[:16]


def default_secret_file(db: str | Path) -> Path | None:
    """``bekal.key`` in the database file's folder; None for ``:memory:`` (a random key per store)."""
    text = str(db)
    if text == ":memory:":
        return None
    return Path(text).parent / KEY_FILE_NAME


def secret_for(db: str | Path, secret_file: str | Path | None = None) -> bytes:
    """The key for the database ``db``: from ``secret_file`` if given, else its default file, else random."""
    if secret_file is not None:
        return load_or_create(secret_file)
    path = default_secret_file(db)
    return os.urandom(KEY_BYTES) if path is None else load_or_create(path)


def load_or_create(path: str | Path) -> bytes:
    """The 32-byte key in ``path``, created (mode 0600) if the file does not exist.

    Raises :class:`SecretFileError` when the file is not a key, or the group or others may access it.
    """
    path = Path(path)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    _create(path)  # when another process won the race, its file stays and is read below
    try:
        return _read(path)
    except FileNotFoundError:
        raise SecretFileError(f"secret file {path}: created, then gone") from None


def _read(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise SecretFileError(f"secret file {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SecretFileError(f"secret file {path} is not a regular file")
        if info.st_mode & 0o077:
            raise SecretFileError(
                f"secret file {path} may be accessed by its group or others (mode {info.st_mode & 0o777:04o}); "
                f"make it private to the server's user: chmod 600 {path}")
        data = os.read(fd, 4 * KEY_BYTES)
    except OSError as exc:
        raise SecretFileError(f"secret file {path}: cannot read it ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    text = data.strip()
    try:
        if len(text) != 2 * KEY_BYTES:
            raise ValueError
        key = bytes.fromhex(text.decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise SecretFileError(
            f"secret file {path}: expected {2 * KEY_BYTES} hexadecimal characters (a {KEY_BYTES}-byte key), "
            f"found {len(data)} bytes of something else") from None
    return key


def _create(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            try:
                os.fchmod(fd, 0o600)  # whatever the umask
                data = os.urandom(KEY_BYTES).hex().encode() + b"\n"
                while data:
                    data = data[os.write(fd, data):]
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(temporary, path)  # atomic, and fails when the name exists: one creator wins
            except FileExistsError:
                pass
        finally:
            os.unlink(temporary)
        _sync_folder(path.parent)
    except OSError as exc:
        raise SecretFileError(f"secret file {path}: cannot create it ({exc.strerror or exc})") from None


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class _Cursor(Protocol):
    def execute(self, sql: str, params: Any = ()) -> Any: ...


def check_key(cur: _Cursor, secret: bytes, path: str) -> None:
    """In a store's migration transaction: remember the key id of a new database, refuse another key.

    Raises :class:`StoreError` when ``path`` was written with a different key.
    """
    cur.execute("CREATE TABLE IF NOT EXISTS store_key (key_id TEXT NOT NULL)")
    row = cur.execute("SELECT key_id FROM store_key").fetchone()
    mine = key_id(secret)
    if row is None:
        cur.execute("INSERT INTO store_key VALUES (?)", (mine,))
    elif row[0] != mine:
        raise StoreError(
            f"database {path} was written with another secret key (key id {row[0]}, this one {mine}): "
            "restore that key file, or see docs/operators.md (Secret key) to start over with a new key")
