"""``bekal.v1.ReplayService``: replay a logged eligibility check, erase one client's facts.

- :mod:`.logic` -- replay with the kept rules version, compare with today's rules, erase; no gRPC;
- :mod:`.codec` -- protobuf <-> those types;
- :mod:`.servicer` -- the thin gRPC servicer.
"""
