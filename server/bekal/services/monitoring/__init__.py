"""``bekal.v1.MonitoringService``: enrolments, training records, monitoring alerts to the referring BNN office.

- :mod:`.logic` -- who may see and write what, paging, the monitoring rules in use; no gRPC;
- :mod:`.codec` -- protobuf <-> those types, with every input check that needs no stored data;
- :mod:`.servicer` -- the thin gRPC servicer, with the WatchAlerts stream.
"""
