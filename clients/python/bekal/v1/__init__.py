"""Generated protobuf and gRPC stubs for the ``bekal.v1`` API (``make proto`` regenerates them)."""
