"""Regenerate the Python stubs in clients/python/bekal/v1 (import name ``bekal.v1``) from protos/.

``python tools/protogen.py`` rewrites them; ``--check`` exits 1 when the committed
stubs differ from what the protos generate (CI runs this), so the stubs can never
silently drift from the API definition.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "clients" / "python" / "bekal" / "v1"
KEEP = {"__init__.py", "py.typed"}


def generate(into: Path) -> None:
    import grpc_tools
    from grpc_tools import protoc  # dev dependency: only needed to regenerate

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(PROTOS)) for p in (PROTOS / "bekal" / "v1").glob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{well_known}",
        f"--python_out={into}",
        f"--pyi_out={into}",
        f"--grpc_python_out={into}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if clients/python/bekal/v1 is stale")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = Path(tmp) / "bekal" / "v1"
        new = {p.name for p in fresh.iterdir()}
        old = {p.name for p in OUT.iterdir() if p.is_file() and p.name not in KEEP}
        if ns.check:
            stale = sorted(
                (new ^ old) | {n for n in new & old if not filecmp.cmp(fresh / n, OUT / n, shallow=False)}
            )
            if stale:
                print("stale generated stubs in clients/python/bekal/v1: " + ", ".join(stale), file=sys.stderr)
                print("run: make proto", file=sys.stderr)
                return 1
            print("generated stubs are up to date")
            return 0
        for name in old - new:
            (OUT / name).unlink()
        for name in sorted(new):
            shutil.copyfile(fresh / name, OUT / name)
        print(f"wrote {len(new)} files to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
