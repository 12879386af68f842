"""``google.longrunning.Operations`` (AIP-151) over the matching jobs: every language's ready client polls them.

- :mod:`.servicer` -- the thin gRPC servicer, reading jobs through :class:`bekal.services.matching.logic.Matching`;
- :mod:`.codec` -- a job as an ``Operation``, and operation names.
"""
