"""``bekal.v1.CatalogService``: the course catalogue the server decides with, for partners to read.

- :mod:`.logic` -- paging over the loaded catalogue, no gRPC;
- :mod:`.codec` -- protobuf <-> those types;
- :mod:`.servicer` -- the thin gRPC servicer.
"""
