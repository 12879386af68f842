"""The rule authors' guide works as written: the worked change of docs/rules.md ("A worked change, start to
finish") is run, block by block, in a fresh copy of the repository's rules, examples and sources (a git
repository, as a clone is), with a server watching the rules folder; each command's output must be the one
the guide shows (``...`` stands for lines left out, versions may differ), the server must go live with the
result, and the rules must still check and test clean (what ``make test`` runs on ``rules/``).

The guide starts from the shipped rules as they are today; once ``rules/`` has moved on (someone made the
change, or another), the guide's starting point is gone and this test says so instead of failing: edit
the guide to start from the new rules. ``python -m tests.docs.test_guide`` rewrites the guide's outputs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.paths import ROOT
from tests.support.servers import Server

GUIDE = ROOT / "docs" / "rules.md"
SECTION = "## A worked change, start to finish"
VERSION = re.compile(r"sha256:[0-9a-f]{16}")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


@dataclass
class Block:
    command: str
    expected: str | None  # the text block right after it, if any
    start: int  # where the expected text is in the guide (for rewriting it)
    end: int


def blocks(text: str) -> list[Block]:
    """The guide's `sh` blocks of the worked change, each with the `text` block that follows it."""
    begin = text.index(SECTION)
    end = text.find("\n## ", begin + len(SECTION))
    section = text[begin:end if end > 0 else len(text)]
    fences = list(FENCE.finditer(section))
    out = []
    for i, fence in enumerate(fences):
        if fence.group(1) != "sh":
            continue
        after = fences[i + 1] if i + 1 < len(fences) else None
        between = section[fence.end():after.start()] if after else ""
        if after is not None and after.group(1) == "text" and not between.strip():
            out.append(Block(fence.group(2), after.group(2), begin + after.start(2), begin + after.end(2)))
        else:
            out.append(Block(fence.group(2), None, 0, 0))
    return out


def matches(expected: str, got: str) -> bool:
    """``got`` as ``expected`` shows it: ``...`` lines stand for any lines, versions may differ."""
    want = VERSION.sub("sha256:*", expected).rstrip("\n").split("\n")
    have = VERSION.sub("sha256:*", got).rstrip("\n").split("\n")
    pattern = "".join(".*?" if line == "..." else re.escape(line.rstrip()) + "\n" for line in want)
    return re.fullmatch(pattern, "".join(line.rstrip() + "\n" for line in have), re.S) is not None


def at_the_start() -> bool:
    """Are the shipped rules where the guide starts from?"""
    rules = ROOT / "rules"
    return (not (rules / "parameters.yaml").exists() and not (rules / "facts.yaml").exists()
            and not (rules / "2020.test.yaml").exists()
            and "when: client.age <= 18\n" in (rules / "eligibility.rules.yaml").read_text(encoding="utf-8"))


def fresh_copy(into: Path) -> Path:
    """rules/, examples/ and docs/sources/ in a git repository, with .venv/bin/bekal, as in a clone."""
    for part in ("rules", "examples", "docs/sources"):
        shutil.copytree(ROOT / part, into / part)
    (into / ".venv" / "bin").mkdir(parents=True)
    wrapper = into / ".venv" / "bin" / "bekal"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bekal "$@"\n')
    wrapper.chmod(0o755)
    git = ["git", "-c", "user.name=guide", "-c", "user.email=guide@example.org"]
    for args in (["init", "-q"], ["add", "rules", "examples", "docs"], ["commit", "-qm", "a fresh clone"]):
        subprocess.run([*git, *args], cwd=into, check=True)
    return into


def run(command: str, cwd: Path, server: str) -> str:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BEKAL_")}, "BEKAL_LANG": "en",
           "BEKAL_SERVER": server}
    done = subprocess.run(["bash", "-e", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300)
    assert done.returncode == 0, f"{command}\n{done.stdout}"
    return done.stdout


def final_version(cwd: Path) -> str:
    found = VERSION.search(run(".venv/bin/bekal rules check rules", cwd, ""))
    assert found is not None
    return found.group(0)


def wait_for(server: Server, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in server.log():
        assert time.monotonic() < deadline, f"the server did not log {text!r}:\n{server.log()}"
        time.sleep(0.2)


def walk_through(tmp: Path) -> list[tuple[Block, str]]:
    """Run the worked change, with a server watching the rules; each block with its output."""
    repo = fresh_copy(tmp / "clone")
    run(".venv/bin/bekal certs dev certs", repo, "")  # as the guide's start says
    # the guide's server: mutual TLS from certs/serve.toml (no TLS options of the test harness's own)
    server = Server(tmp, repo / "rules", "--config", str(repo / "certs" / "serve.toml"), reload_interval="0.2",
                    grace="1", security="plain")
    try:
        wait_for(server, "listening on")
        outputs = []
        for block in blocks(GUIDE.read_text(encoding="utf-8")):
            if "bekal check" in block.command:  # the server has gone live with the change by now
                wait_for(server, f"rules changed on disk: now serving version {final_version(repo)}")
            outputs.append((block, run(block.command, repo, server.address)))
        return outputs
    finally:
        server.stop()


@pytest.mark.skipif(not at_the_start(), reason="rules/ has moved on from where docs/rules.md's worked change "
                                                "starts: make the guide start from the rules as they are")
def test_the_worked_change_works_as_written(tmp_path: Path):
    outputs = walk_through(tmp_path)
    assert len(outputs) == 8
    for block, got in outputs:
        if block.expected is not None:
            assert matches(block.expected, got), f"$ {block.command}\nexpected:\n{block.expected}\ngot:\n{got}"
    repo = tmp_path / "clone"
    tested = run(".venv/bin/bekal rules test rules", repo, "")
    assert tested.splitlines() == ["monitoring rule tests: 7 passed, 0 failed",  # nothing untested, nothing failing
                                   "rule tests: 22 passed, 0 failed"]
    assert run(".venv/bin/bekal rules check rules", repo, "").startswith("rules: OK: 2 ruleset(s), 12 rule(s)")


def test_outputs_are_compared_line_by_line():
    assert matches("a\n...\nd sha256:0123456789abcdef\n", "a\nb\nc\nd sha256:fedcba9876543210\n")
    assert not matches("a\nd\n", "a\nb\nd\n")
    assert matches("...\nlast\n", "last\n") and not matches("first\n...\n", "second\n")


if __name__ == "__main__":  # rewrite the guide's outputs from a run (then read them over before committing)
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        text = GUIDE.read_text(encoding="utf-8")
        for block, got in sorted(walk_through(Path(scratch)), key=lambda bg: -bg[0].start):
            if block.expected is not None and not matches(block.expected, got):
                text = text[:block.start] + got + text[block.end:]
        GUIDE.write_text(text, encoding="utf-8")
