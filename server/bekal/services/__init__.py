"""The gRPC services of ``bekal.v1``, each in the same three parts.

Every service is a package with a thin **servicer** (gRPC only: messages in, one
call, messages out), its **logic** on domain types (tested without gRPC) and a
**codec** (protobuf <-> those types, with every input check):

- :mod:`bekal.services.eligibility` -- is this client eligible for that course, and why;
- :mod:`bekal.services.rules` -- what is loaded, dry runs, reloads;
- :mod:`bekal.services.matching` -- placing cohorts, inline or as jobs.

What they share is in one place each:

- :mod:`.errors` -- :class:`~.errors.ServiceError` and the other errors, caught by type;
- :mod:`.guard` -- running a handler, errors as gRPC statuses with ``google.rpc`` details, deadlines;
- :mod:`.registration` -- registering a servicer (handlers may return pre-encoded bytes);
- :mod:`.limits` -- request limits and the id, text and date checks;
- :mod:`.codec` -- audiences, dates, client and course facts, decisions in protobuf;
- :mod:`.snapshots` -- the served rules: reload with an atomic swap, leases, validation.

The server process that assembles them is :mod:`bekal.serve`.
"""
