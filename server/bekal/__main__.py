"""``python -m bekal`` is the ``bekal`` command."""

from bekal.cli import main

main()
