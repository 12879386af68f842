"""Settings resolution and the SQLite decision log."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from bekal.serve.config import ServeConfig, resolve
from bekal.serve.errors import ConfigError
from bekal.store import LoggedDecision, LoggedRequest, Recorded, open_decision_log


def test_defaults():
    config = resolve({}, env={})
    assert config == ServeConfig()
    assert (config.listen, str(config.rules), config.db, config.workers) == ("127.0.0.1:50051", "rules", "bekal.db", 1)


def test_flag_beats_env_beats_file(tmp_path: Path):
    conf = tmp_path / "etc" / "bekal.toml"
    conf.parent.mkdir()
    conf.write_text('[serve]\nlisten = "0.0.0.0:6000"\nrules = "r"\ndb = "data/b.db"\nworkers = 3\n')
    env = {"BEKAL_CONFIG": str(conf), "BEKAL_WORKERS": "2", "BEKAL_LISTEN": "127.0.0.1:7000"}
    config = resolve({"listen": "127.0.0.1:8000", "db": None}, env=env)
    assert config.listen == "127.0.0.1:8000" and config.sources["listen"] == "flag"
    assert config.workers == 2 and config.sources["workers"] == "$BEKAL_WORKERS"
    assert config.rules == conf.parent / "r"  # relative to the config file
    assert config.db == str(conf.parent / "data" / "b.db")


@pytest.mark.parametrize(
    "flags, env, message",
    [
        ({"workers": 0}, {}, "workers from --workers"),
        ({}, {"BEKAL_WORKERS": "two"}, "$BEKAL_WORKERS"),
        ({"listen": "50051"}, {}, "HOST:PORT"),
        ({"tls_cert": "c.pem"}, {}, "tls_cert and tls_key"),
    ],
)
def test_bad_settings_name_their_source(flags, env, message):
    with pytest.raises(ConfigError, match=message.replace("$", r"\$")):
        resolve(flags, env=env)


def test_placement_processes_default_to_every_core():
    assert resolve({}, env={}).placement_processes == 0
    assert resolve({"placement_processes": 2}, env={}).placement_processes == 2
    assert resolve({}, env={"BEKAL_PLACEMENT_PROCESSES": "1"}).placement_processes == 1
    with pytest.raises(ConfigError, match="placement_processes"):
        resolve({"placement_processes": -1}, env={})


def test_unknown_key_in_config_file(tmp_path: Path):
    conf = tmp_path / "c.toml"
    conf.write_text("listn = 'x:1'\n")
    with pytest.raises(ConfigError, match="unknown setting"):
        resolve({}, env={}, config_file=conf)


def _request(rid: str, fp: str = "fp", n: int = 2) -> LoggedRequest:
    summary = "\n".join(LoggedDecision(f"K-{i}", "ELIGIBLE", 10, ("priority/bnn",)).line() for i in range(n))
    return LoggedRequest(rid, fp, "C-1", "bnn", "sha256:v1", "2019-06-01", summary)


def test_store_records_once_per_request_id(tmp_path: Path):
    store = open_decision_log(tmp_path / "b.db")
    assert store.record([_request("a"), _request("b"), _request("a")]) == [
        Recorded.NEW, Recorded.NEW, Recorded.DUPLICATE]
    assert store.record([_request("a", fp="other")]) == [Recorded.CONFLICT]
    assert store.count() == 2
    got = store.get("a")
    assert got is not None and len(got.decisions) == 2 and got.decisions[1].course_code == "K-1"
    assert got.decisions[0].rule_ids == ("priority/bnn",)
    assert store.get("zzz") is None
    store.close()
    reopened = open_decision_log(f"sqlite:///{tmp_path / 'b.db'}")
    assert reopened.count() == 2  # durable across processes/restarts
    reopened.close()


def _writer(path: str, prefix: str) -> None:
    store = open_decision_log(path)
    for i in range(50):
        store.record([_request(f"{prefix}-{i}", n=1), _request("shared", n=1)])
    store.close()


def test_store_shared_by_processes(tmp_path: Path):
    path = str(tmp_path / "shared.db")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, p)) for p in ("x", "y")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    store = open_decision_log(path)
    assert store.count() == 101
    store.close()


def test_postgres_is_not_there_yet():
    with pytest.raises(ValueError, match="PostgreSQL"):
        open_decision_log("postgresql://localhost/bekal")


def test_the_supervisors_check_opens_the_stores_with_the_configured_facts_key(tmp_path: Path):
    """With --workers >= 2 the supervisor opens the stores once before forking: with the facts key the
    workers will use, or it records a stray key next to the database and every worker is refused."""
    from bekal.serve.supervisor import _unusable
    from bekal.store import open_stores

    keys = tmp_path / "keys"
    keys.mkdir()
    db = tmp_path / "bekal.db"
    config = ServeConfig(db=str(db), facts_key_file=keys / "facts.key")
    assert _unusable(config) is None
    assert not (tmp_path / "bekal-facts.key").exists()
    open_stores(db, None, keys / "facts.key").close()  # what each worker then does
