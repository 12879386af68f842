"""``bekal.v1.AuditService``: the decision log and the audit trail, for auditors (and a BNN office's own checks).

- :mod:`.logic` -- queries on the stores with paging, no gRPC;
- :mod:`.codec` -- protobuf <-> those types;
- :mod:`.servicer` -- the thin gRPC servicer.
"""
