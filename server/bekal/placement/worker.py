"""``python -m bekal.placement.worker FD``: a placement worker process (see :mod:`bekal.placement.parallel`)."""

import sys

from bekal.placement.parallel import serve

if __name__ == "__main__":
    serve(int(sys.argv[1]))
