"""``bekal.v1.MatchingService``: place a cohort into course seats, inline or as a job that survives restarts.

- :mod:`.logic` -- inline matches and the job runner, on domain types (:mod:`bekal.placement` does the placing);
- :mod:`.codec` -- protobuf <-> those types, and the format jobs are kept in;
- :mod:`.servicer` -- the thin gRPC servicer.
"""
