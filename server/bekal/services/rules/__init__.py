"""``bekal.v1.RulesService``: what is loaded, a ruleset's source, dry runs of rule files, reloads.

- :mod:`.logic` -- on the served rules (:mod:`bekal.services.snapshots`), no gRPC;
- :mod:`.codec` -- protobuf <-> those types;
- :mod:`.servicer` -- the thin gRPC servicer.
"""
