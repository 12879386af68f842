"""The gRPC service ``bekal.v1``: servicers, server assembly, configuration, hot reload.

- :mod:`bekal.service.core` — the logic in plain Python (rules snapshots, checks, audience view);
- :mod:`bekal.service.convert` — protobuf <-> those types;
- :mod:`bekal.service.wire` — the hand-written encoder of eligibility responses (the bulk hot loop);
- :mod:`bekal.service.servicers` — the thin gRPC servicers;
- :mod:`bekal.service.server` — assembly, worker processes, signals;
- :mod:`bekal.service.watcher` — hot reload of the rules folder;
- :mod:`bekal.service.config` — settings from flags, environment and a config file;
- :mod:`bekal.service.errors` — errors and their ``google.rpc`` status details.
"""
