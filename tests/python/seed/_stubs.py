"""Generates catalog_pb2 / catalog_pb2_grpc from the example's proto with grpcio-tools, on import."""
import os
import sys
import tempfile

from grpc_tools import protoc

_HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_DIR = os.path.normpath(os.path.join(_HERE, "..", "..", "..", "examples", "catalog", "proto"))
_OUT = tempfile.mkdtemp(prefix="catalog-stubs-")
_rc = protoc.main([
    "grpc_tools.protoc",
    f"--proto_path={PROTO_DIR}",
    f"--python_out={_OUT}",
    f"--grpc_python_out={_OUT}",
    os.path.join(PROTO_DIR, "catalog.proto"),
])
if _rc != 0:
    raise SystemExit(f"grpc_tools.protoc failed on {PROTO_DIR}/catalog.proto (exit {_rc})")
sys.path.insert(0, _OUT)
