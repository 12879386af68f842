"""``bekal.v1.EligibilityService``: is this client eligible for that course, and why?

- :mod:`.logic` -- checks on domain types, decided by the served rules and recorded in the decision log;
- :mod:`.codec` -- protobuf <-> those types, with every input check;
- :mod:`.wire` -- the hand-written encoder of responses (the bulk hot loop), byte-for-byte the codec's;
- :mod:`.servicer` -- the thin gRPC servicer.
"""
