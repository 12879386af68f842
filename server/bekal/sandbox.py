"""Checking rule text that came from a caller, in a child process with time and memory limits.

``ValidateRules`` takes rule files from whoever may call it. The checker refuses every
construct measured to stall durable_rules (alias bombs, deep nesting, hanging patterns),
but a dry run also registers the rules in durable_rules and runs their tests, inside C code
that holds the GIL: if some input still found a slow path, the server would stop answering
everyone, health checks included. So the dry run happens in a child process that is killed
after ``timeout`` seconds and cannot grow past ``memory`` bytes; the server only waits for
its answer (a pipe read, which releases the GIL).

    python -m bekal.sandbox [MEMORY] < {"files": {name: text}}   ->   {"valid": ..., "version": ..., ...}
"""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass

from bekal.lang.diagnostics import Diagnostic, Location

log = logging.getLogger("bekal.sandbox")

TIMEOUT_S = 20.0
_OUT_OF_MEMORY = ("MemoryError", "failed to map segment", "Cannot allocate memory")
MEMORY_BYTES = 1024 * 1024 * 1024  # address space of the child; the default rules need about 150 MB


@dataclass(frozen=True)
class DryRun:
    """What checking a set of rule files found (nothing was loaded anywhere)."""

    valid: bool
    version: str | None
    diagnostics: tuple[Diagnostic, ...]
    rulesets: tuple[str, ...] = ()


def _limit_myself(memory: int) -> None:
    """The child limits itself first thing (a ``preexec_fn`` would run Python between fork and
    exec in a server full of gRPC threads, which crashes there)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.nice(5)  # the server's own calls come first


def dry_run(files: Mapping[str, str], *, timeout: float = TIMEOUT_S, memory: int = MEMORY_BYTES) -> DryRun:
    """Parse, check, compile, register and test ``files`` (name -> text) in a limited child process."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bekal.sandbox", str(memory)], input=json.dumps({"files": dict(files)}),
            capture_output=True, text=True, timeout=timeout, env={**os.environ, "PYTHONHASHSEED": "0"},
        )
    except subprocess.TimeoutExpired:
        return _failed(f"checking these rules took longer than {timeout:.0f} s and was stopped",
                       "simplify the conditions and patterns (see the safe subset in the rule authors' guide)")
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        last = done.stderr.strip().splitlines()[-1:] or ["no output"]
        log.warning("rules dry run failed (exit status %s): %s", done.returncode, last[0][:200])
        if done.returncode < 0 or any(sign in done.stderr for sign in _OUT_OF_MEMORY):
            return _failed("checking these rules needed more memory than allowed and was stopped",
                           "make the files smaller")
        return _failed(f"checking these rules failed (exit status {done.returncode})")
    diagnostics = tuple(Diagnostic(Location(d["file"], d["line"], d["col"]), d["message"], d.get("hint"))
                        for d in answer["diagnostics"])
    return DryRun(answer["valid"], answer.get("version"), diagnostics, tuple(answer.get("rulesets", ())))


def _failed(message: str, hint: str | None = None) -> DryRun:
    return DryRun(False, None, (Diagnostic(Location("", 0, 0), message, hint),))


def check_in_this_process(files: Mapping[str, str]) -> DryRun:
    """The dry run itself (what the child does): everything a reload would do, except going live."""
    from bekal.engine import Engine, EngineError
    from bekal.rulebook import RuleError, load_rulebook_from_texts
    from bekal.ruletests import gate

    try:
        rulebook = load_rulebook_from_texts(files)
    except RuleError as exc:
        return DryRun(False, None, tuple(exc.diagnostics))
    try:
        engine = Engine(rulebook)
    except EngineError as exc:
        return _failed(str(exc))
    try:
        failures = gate(rulebook, engine)
    finally:
        engine.close()
    names = tuple(dict.fromkeys(r.name for r in rulebook.rulesets))
    return DryRun(not failures, rulebook.version if not failures else None, tuple(failures), names)


def _main() -> None:
    _limit_myself(int(sys.argv[1]) if len(sys.argv) > 1 else MEMORY_BYTES)
    request = json.loads(sys.stdin.read())
    try:
        result = check_in_this_process(request["files"])
    except RecursionError:  # the checker bounds nesting; this is a last line, never a traceback
        result = _failed("these rules are nested too deeply to check")
    print(json.dumps({
        "valid": result.valid, "version": result.version, "rulesets": list(result.rulesets),
        "diagnostics": [{"file": d.file, "line": d.line, "col": d.col, "message": d.message, "hint": d.hint}
                        for d in result.diagnostics],
    }))


if __name__ == "__main__":
    _main()
