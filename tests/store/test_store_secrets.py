"""The secret key of the stored digests: created once (mode 0600, even by racing processes), refused when
others may read it or it is not a key, never logged; the setting that names it."""

from __future__ import annotations

import logging
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from bekal.serve.config import resolve
from bekal.store import LoggedRequest, open_decision_log, open_job_store
from bekal.store.secrets import (
    KEY_BYTES,
    SecretFileError,
    default_secret_file,
    key_id,
    keyed,
    load_or_create,
    secret_for,
)


def test_a_missing_key_is_created_private_and_then_read(tmp_path):
    path = tmp_path / "etc" / "bekal.key"
    old = os.umask(0)  # a careless umask must not make it readable
    try:
        key = load_or_create(path)
    finally:
        os.umask(old)
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == key.hex() + "\n"
    assert load_or_create(path) == key
    assert [p.name for p in path.parent.iterdir()] == ["bekal.key"]  # no temporary file left


def test_a_key_written_by_an_operator_is_used(tmp_path):
    path = tmp_path / "k"
    path.write_text(("0f" * KEY_BYTES).upper() + "\n")
    path.chmod(0o400)
    assert load_or_create(path) == bytes([15] * KEY_BYTES)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o644])
def test_a_key_others_may_access_is_refused(tmp_path, mode):
    path = tmp_path / "bekal.key"
    path.write_text("ab" * KEY_BYTES)
    path.chmod(mode)
    with pytest.raises(SecretFileError) as err:
        load_or_create(path)
    assert str(err.value) == (f"secret file {path} may be accessed by its group or others (mode {mode:04o}); "
                              f"make it private to the server's user: chmod 600 {path}")


@pytest.mark.parametrize("content", ["ab" * 31, "ab" * 33, "zz" * KEY_BYTES, "", "\x00" * 64])
def test_something_else_than_a_key_is_refused_without_quoting_it(tmp_path, content):
    path = tmp_path / "bekal.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(SecretFileError, match="expected 64 hexadecimal characters") as err:
        load_or_create(path)
    assert content.strip("\x00") == "" or content not in str(err.value)


def test_a_directory_or_an_unwritable_place_is_refused(tmp_path):
    (tmp_path / "dir").mkdir(mode=0o700)
    with pytest.raises(SecretFileError, match="is not a regular file"):
        load_or_create(tmp_path / "dir")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SecretFileError, match=r"file/bekal.key: cannot read it \(Not a directory\)"):
        load_or_create(tmp_path / "file" / "bekal.key")


def _racer(path: str, barrier, out) -> None:
    barrier.wait()
    out.put(load_or_create(path).hex())


def test_processes_starting_together_agree_on_one_key(tmp_path):
    ctx = multiprocessing.get_context("fork")
    n = 8
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(str(tmp_path / "bekal.key"), barrier, out)) for _ in range(n)]
    for p in procs:
        p.start()
    keys = {out.get(timeout=60) for _ in procs}
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert keys == {(tmp_path / "bekal.key").read_text().strip()}
    assert [p.name for p in tmp_path.iterdir()] == ["bekal.key"]


def test_defaults_next_to_the_database_and_random_in_memory(tmp_path):
    assert default_secret_file(tmp_path / "data" / "b.db") == tmp_path / "data" / "bekal.key"
    assert default_secret_file(":memory:") is None
    assert secret_for(":memory:") != secret_for(":memory:")
    assert secret_for(tmp_path / "b.db") == load_or_create(tmp_path / "bekal.key")
    assert secret_for(tmp_path / "b.db", tmp_path / "other.key") == load_or_create(tmp_path / "other.key")


def test_keyed_digests_and_key_ids_need_the_key():
    a, b = bytes(32), bytes([1] * 32)
    assert keyed(a, "digest") != keyed(b, "digest") and len(keyed(a, "digest")) == 64
    assert keyed(a, "digest") == keyed(a, "digest") != keyed(a, "digest2")
    assert key_id(a) != key_id(b) and a.hex()[:16] not in key_id(a)


def test_the_key_is_never_logged_nor_stored(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    log, jobs = open_decision_log(tmp_path / "b.db"), open_job_store(tmp_path / "b.db")
    log.record([LoggedRequest("r1", "digest", "C-1", "bnn", "v1", "2019-06-01", "K-1 ELIGIBLE 10 ")])
    log.close()
    jobs.close()
    key = load_or_create(tmp_path / "bekal.key")
    (tmp_path / "bekal.key").chmod(0o644)
    with pytest.raises(SecretFileError):
        open_decision_log(tmp_path / "b.db")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert key.hex() not in text and key.hex()[:16] not in text
    data = b"".join(p.read_bytes() for p in tmp_path.glob("b.db*"))
    assert key not in data and key.hex().encode() not in data


def test_the_setting_comes_from_a_flag_the_environment_or_the_config_file(tmp_path):
    assert resolve({}, env={}).secret_file is None
    assert resolve({"secret_file": "/k/a.key"}, env={}).secret_file == Path("/k/a.key")
    assert resolve({}, env={"BEKAL_SECRET_FILE": "/k/b.key"}).secret_file == Path("/k/b.key")
    conf = tmp_path / "bekal.toml"
    conf.write_text('[serve]\nsecret_file = "keys/c.key"\n')
    config = resolve({}, env={}, config_file=conf)
    assert config.secret_file == tmp_path / "keys" / "c.key" and config.sources["secret_file"] == f"config {conf}"
