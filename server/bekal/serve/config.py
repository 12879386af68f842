"""Server settings: command-line flag > environment variable > config file > default.

Every setting has an environment variable ``BEKAL_<NAME>`` (upper case), e.g.
``BEKAL_LISTEN=0.0.0.0:50051``. The optional config file (``--config PATH`` or
``BEKAL_CONFIG``) is TOML with the same names, at top level or under a
``[serve]`` table; relative paths in it are relative to the file::

    [serve]
    listen = "127.0.0.1:50051"
    rules = "rules"
    db = "/var/lib/bekal/bekal.db"
    secret_file = "/etc/bekal/bekal.key"
    workers = 2
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bekal.serve.errors import ConfigError
from bekal.services.limits import DEFAULT_PSEUDONYM_PATTERN

MiB = 1024 * 1024


@dataclass(frozen=True)
class ServeConfig:
    listen: str = "127.0.0.1:50051"  # host:port; port 0 picks a free port
    rules: Path = Path("rules")  # the rules folder, watched for changes
    db: str = "bekal.db"  # SQLite file (":memory:" for none)
    secret_file: Path | None = None  # key of the stored digests; None: bekal.key next to db (see bekal.store.secrets)
    facts_key_file: Path | None = None  # seals the decision log's facts; None: bekal-facts.key next to db
    retention_days: int = 365  # the decision log's facts are deleted this many days after the decision
    workers: int = 1  # server processes sharing the port (SO_REUSEPORT)
    threads: int = 16  # gRPC handler threads per worker
    placement_processes: int = 0  # processes deciding a big placement job's eligibility; 0 = every core
    grace: float = 10.0  # seconds in-flight calls get to finish on SIGTERM
    max_message_bytes: int = 4 * MiB  # largest request message accepted
    reload_interval: float = 1.0  # seconds between checks of the rules folder; 0 turns watching off
    tls_cert: Path | None = None  # PEM certificate chain; with tls_key, serve TLS only
    tls_key: Path | None = None  # PEM private key
    tls_client_ca: Path | None = None  # PEM CA bundle: mutual TLS, every caller must present a certificate it signed
    identities: Path | None = None  # TOML: which certificate is which agency, in which role (bekal.serve.identity)
    allow_insecure: bool = False  # plaintext on an address other than loopback (never for real data)
    idle_timeout: float = 60.0  # seconds a client stream may send nothing before it is closed
    max_streams: int = 64  # streaming calls open at once in a worker
    max_streams_per_peer: int = 8  # ... from one network address
    log_level: str = "INFO"
    pseudonym_pattern: str = DEFAULT_PSEUDONYM_PATTERN  # every client id received must match (no names)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)  # setting -> where from

    def describe(self) -> str:
        """One log line with every setting and where it came from (no secrets: paths only)."""
        parts = []
        for f in dataclasses.fields(self):
            if f.name == "sources":
                continue
            parts.append(f"{f.name}={getattr(self, f.name)} ({self.sources.get(f.name, 'default')})")
        return ", ".join(parts)


def split_address(address: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``[v6]:PORT``) as host and port; an empty host listens everywhere."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    try:
        return host, int(port)
    except ValueError:
        raise ValueError(f"listen address {address!r}: expected HOST:PORT") from None


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


_PATHS = {"rules", "tls_cert", "tls_key", "tls_client_ca", "identities", "secret_file", "facts_key_file"}
_NAMES = [f.name for f in dataclasses.fields(ServeConfig) if f.name != "sources"]


def _convert(name: str, value: Any, origin: str, base: Path | None) -> Any:
    target = {f.name: f for f in dataclasses.fields(ServeConfig)}[name]
    kind = target.type if isinstance(target.type, str) else str(target.type)
    try:
        if name == "db":
            text = str(value)
            if text == "":
                raise ValueError("expected a file path or :memory:")
            if text == ":memory:" or "://" in text:
                return text
            path = Path(text).expanduser()
            return str(base / path if base is not None and not path.is_absolute() else path)
        if name in _PATHS:
            if not isinstance(value, (str, Path)) or str(value) == "":
                raise ValueError("expected a path")
            path = Path(value).expanduser()
            return base / path if base is not None and not path.is_absolute() else path
        if kind == "int":
            if isinstance(value, bool):
                raise ValueError("expected a whole number")
            whole = int(value)
            if whole < (0 if name in ("max_message_bytes", "placement_processes") else 1):
                raise ValueError("must be at least 1")
            return whole
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError("expected a number")
            number = float(value)
            if number < 0:
                raise ValueError("must not be negative")
            return number
        if name == "listen":
            text = str(value)
            if ":" not in text:
                raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:50051")
            return text
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if name == "pseudonym_pattern":
            text = str(value)
            try:
                compiled = re.compile(text)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
            if compiled.fullmatch("Budi Santoso"):
                raise ValueError("the pattern accepts 'Budi Santoso': a pseudonym pattern must refuse names")
            return text
        if name == "log_level":
            level = str(value).upper()
            if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
                raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
            return level
        return value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} from {origin}: {exc} (got {value!r})") from None


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    table = data.get("serve", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [serve] must be a table")
    unknown = sorted(set(table) - set(_NAMES) - {"serve"})
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(_NAMES)}"
        )
    return {k: v for k, v in table.items() if k != "serve"}


def resolve(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
) -> ServeConfig:
    """Combine the sources; ``flags`` holds only the flags actually given (None = not given)."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    env = os.environ if env is None else env
    if config_file is None and env.get("BEKAL_CONFIG"):
        config_file = env["BEKAL_CONFIG"]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if config_file is not None:
        path = Path(config_file)
        for name, value in read_config_file(path).items():
            values[name] = _convert(name, value, f"config file {path}", path.parent)
            sources[name] = f"config {path}"
    for name in _NAMES:
        var = f"BEKAL_{name.upper()}"
        if env.get(var, "") != "":
            values[name] = _convert(name, env[var], f"${var}", None)
            sources[name] = f"${var}"
    for name, value in flags.items():
        if name not in _NAMES:
            raise ConfigError(f"unknown setting {name}")
        values[name] = _convert(name, value, f"--{name.replace('_', '-')}", None)
        sources[name] = "flag"
    config = ServeConfig(**values, sources=sources)
    if (config.tls_cert is None) != (config.tls_key is None):
        raise ConfigError("tls_cert and tls_key go together: set both or neither")
    if config.tls_client_ca is not None and config.tls_cert is None:
        raise ConfigError("tls_client_ca (mutual TLS) needs tls_cert and tls_key")
    host, _port = split_address(config.listen)
    if config.tls_cert is None and not is_loopback(host) and not config.allow_insecure:
        raise ConfigError(f"listen {config.listen}: plaintext only on a loopback address; set tls_cert and tls_key "
                          "(and tls_client_ca for mutual TLS), or allow_insecure for a private test network")
    return config


def is_loopback(host: str) -> bool:
    """Is ``host`` a loopback address (127.0.0.0/8, ::1, localhost)?"""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
