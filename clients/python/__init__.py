"""Python client for the bekal gRPC API."""
