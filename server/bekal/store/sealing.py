"""Client facts sealed for the decision log: AES-GCM with one data key per client, wrapped by the facts key.

The facts behind a decision are health data (rehabilitation stage and dates, consent), kept only so
that the decision can be replayed. They are never stored in the clear:

- each client gets a random 256-bit *data key*, stored wrapped (AES-GCM) by the *facts key* from
  configuration (``facts_key_file``), with the client id as associated data -- a wrapped key copied
  to another client's row does not open;
- each request's facts are sealed (AES-GCM) with its client's data key, a fresh random 96-bit nonce
  per record, and the request id as associated data -- a sealed record copied to another request
  does not open either;
- erasing a client (UU 27/2022: the data subject's right to erasure) deletes its records and its
  data key: *crypto-shredding*, so copies of the database made earlier (backups) no longer open
  once the key is gone from them too, and nothing else in the log changes.

The facts key is a file like the digest key (:mod:`bekal.store.secrets`: 64 hexadecimal
characters, mode 0600, created when missing); the database remembers its key id and refuses
another key, and refuses to create a new one when it already holds sealed facts.

Facts are encoded as JSON with dates as ``{"$date": "YYYY-MM-DD"}`` so that they come back as
the engine took them (:func:`facts_to_bytes`, :func:`facts_from_bytes`).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping
from datetime import date
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bekal.store.errors import StoreError

NONCE_BYTES = 12
DATA_KEY_BYTES = 32
_WRAP_AD = b"bekal client data key v1\0"
_FACTS_AD = b"bekal decision facts v1\0"
_JOB_AD = b"bekal match job input v1\0"

__all__ = ["FactsUnreadable", "facts_from_bytes", "facts_to_bytes", "new_data_key", "open_facts", "open_job",
           "seal_facts", "seal_job", "unwrap_key", "wrap_key"]


class FactsUnreadable(StoreError):
    """Sealed facts (or a wrapped key) that do not open: another key, or a changed record. No data in the message."""


def _seal(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)  # random per record: 2^-32 collision risk only after 2^32 records per key
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated)


def _open(key: bytes, sealed: bytes, associated: bytes, what: str) -> bytes:
    if len(sealed) < NONCE_BYTES + 16:
        raise FactsUnreadable(f"{what}: too short to be sealed data")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
    except InvalidTag:
        raise FactsUnreadable(f"{what}: does not open with this key (another facts key, or the record "
                              "was changed)") from None


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=8 * DATA_KEY_BYTES)


def wrap_key(facts_key: bytes, client_id: str, data_key: bytes) -> bytes:
    """A client's data key sealed by the facts key, bound to the client id."""
    return _seal(facts_key, data_key, _WRAP_AD + client_id.encode())


def unwrap_key(facts_key: bytes, client_id: str, wrapped: bytes) -> bytes:
    return _open(facts_key, wrapped, _WRAP_AD + client_id.encode(), f"the data key of client {client_id}")


def seal_facts(data_key: bytes, request_id: str, facts: Mapping[str, Any]) -> bytes:
    """One request's facts sealed by its client's data key, bound to the request id."""
    return _seal(data_key, facts_to_bytes(facts), _FACTS_AD + request_id.encode())


def open_facts(data_key: bytes, request_id: str, sealed: bytes) -> dict[str, Any]:
    return facts_from_bytes(_open(data_key, sealed, _FACTS_AD + request_id.encode(),
                                  f"the facts of request {request_id}"))


def seal_job(facts_key: bytes, job_id: str, blob: bytes) -> bytes:
    """A matching job's input (compressed) sealed by the facts key, bound to the job id. A job's input
    holds every client of the cohort: erasing one of them deletes the record (see the decision log)."""
    return _seal(facts_key, zlib.compress(blob, 1), _JOB_AD + job_id.encode())


def open_job(facts_key: bytes, job_id: str, sealed: bytes) -> bytes:
    return zlib.decompress(_open(facts_key, sealed, _JOB_AD + job_id.encode(), f"the input of match job {job_id}"))


def _tagged(value: Any) -> Any:
    """What JSON cannot hold as it is (called by the C encoder only for those): dates tagged, mappings
    and sets as plain containers."""
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"a fact value of type {type(value).__name__} cannot be kept")


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$date"}:
            return date.fromisoformat(value["$date"])
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return value


def facts_to_bytes(facts: Mapping[str, Any]) -> bytes:
    """Facts as canonical JSON (sorted keys), dates tagged."""
    return json.dumps(dict(facts), default=_tagged, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def facts_from_bytes(data: bytes) -> dict[str, Any]:
    value = _typed(json.loads(data))
    if not isinstance(value, dict):
        raise FactsUnreadable("sealed facts are not a mapping")
    return value
