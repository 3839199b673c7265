"""Checks run by the end-to-end tests against a running catalog server, with Python grpcio as the
outside client. Usage: catalog_checks.py CHECK TARGET [ARGS]. Prints what it verified; any failed
expectation raises, so the exit status is non-zero and the message says what differed."""
import os
import signal
import sys
import threading
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from google.protobuf import descriptor_pool, message_factory

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed"))
import _stubs  # noqa: F401,E402
import catalog_pb2  # noqa: E402
import catalog_pb2_grpc  # noqa: E402


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_code(call, code, what):
    try:
        result = call()
    except grpc.RpcError as err:
        expect(err.code() == code, f"{what}: expected {code}, got {err.code()} ({err.details()!r})")
        return err
    raise AssertionError(f"{what}: expected {code}, got a result: {result!r}")


def stub(target):
    return catalog_pb2_grpc.ProductCatalogStub(grpc.insecure_channel(target))


def check_flow(target):
    s = stub(target)
    p = s.GetProduct(catalog_pb2.GetProductRequest(id="1"), timeout=5)
    expect((p.name, p.price, p.category, p.in_stock) == ("Laptop Pro 16", 1299.99, "electronics", True), f"GetProduct 1: {p}")
    r = s.ListProducts(catalog_pb2.ListProductsRequest(category="electronics", page_size=10), timeout=5)
    expect([x.name for x in r.products] == ["Laptop Pro 16", "Wireless Mouse", "Monitor 27 4K"], f"electronics: {r}")
    expect(r.total_count == 3 and r.next_page_token == "", f"electronics totals: {r}")
    r = s.ListProducts(catalog_pb2.ListProductsRequest(page_size=2, page_token="2"), timeout=5)
    expect([x.id for x in r.products] == ["3", "4"] and r.next_page_token == "4" and r.total_count == 5, f"page 2: {r}")
    found = [x.name for x in s.SearchProducts(catalog_pb2.SearchRequest(query="desk", max_results=5), timeout=5)]
    expect(found == ["Standing Desk", "Desk Lamp"], f"search desk: {found}")
    found = [x.name for x in s.SearchProducts(catalog_pb2.SearchRequest(query="E", max_results=2), timeout=5)]
    expect(len(found) == 2, f"search max_results=2: {found}")
    err = expect_code(lambda: s.GetProduct(catalog_pb2.GetProductRequest(id="42"), timeout=5),
                      grpc.StatusCode.NOT_FOUND, "GetProduct 42")
    expect(err.details() == "Product 42 not found", f"NOT_FOUND message: {err.details()!r}")
    print("flow ok")


def check_health(target, service):
    h = health_pb2_grpc.HealthStub(grpc.insecure_channel(target))
    for name in ("", service):
        r = h.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        expect(r.status == health_pb2.HealthCheckResponse.SERVING, f"health {name!r}: {r}")
    expect_code(lambda: h.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5),
                grpc.StatusCode.NOT_FOUND, "health for an unknown service")
    watch = h.Watch(health_pb2.HealthCheckRequest(service=service), timeout=5)
    first = next(watch)
    expect(first.status == health_pb2.HealthCheckResponse.SERVING, f"watch first status: {first}")
    watch.cancel()
    print("health ok")


def check_reflection(target, service):
    """v1alpha reflection, as grpcio-reflection's client speaks it: list the services, resolve the
    catalog's descriptors from the server alone, and call GetProduct with messages built from them."""
    channel = grpc.insecure_channel(target)
    db = ProtoReflectionDescriptorDatabase(channel)
    services = set(db.get_services())
    for expected in (service, "grpc.health.v1.Health"):
        expect(expected in services, f"reflection lists {sorted(services)}, missing {expected}")
    pool = descriptor_pool.DescriptorPool(db)
    svc = pool.FindServiceByName(service)
    method = svc.FindMethodByName("GetProduct")
    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    call = channel.unary_unary(f"/{service}/GetProduct", request_serializer=request_cls.SerializeToString,
                               response_deserializer=response_cls.FromString)
    product = call(request_cls(id="2"), timeout=5)
    expect(product.name == "Wireless Mouse", f"GetProduct through reflected descriptors: {product}")
    print("reflection ok")


def check_panic(target):
    s = stub(target)
    expect_code(lambda: s.GetProduct(catalog_pb2.GetProductRequest(id="panic"), timeout=5),
                grpc.StatusCode.INTERNAL, "a panicking handler")
    expect(s.GetProduct(catalog_pb2.GetProductRequest(id="1"), timeout=5).id == "1", "a call after the panic")
    print("panic ok")


def check_garbage(target):
    channel = grpc.insecure_channel(target)
    raw = channel.unary_unary("/catalog.ProductCatalog/GetProduct",
                              request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        raw(b"\xff\xff\xff\xff\xff\x0f garbage", timeout=5)
        raise AssertionError("garbage request bytes were answered with a result")
    except grpc.RpcError as err:
        expect(err.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.INVALID_ARGUMENT),
               f"garbage request: {err.code()} {err.details()!r}")
    expect(stub(target).GetProduct(catalog_pb2.GetProductRequest(id="3"), timeout=5).id == "3", "a call after garbage")
    print("garbage ok")


def check_drain(target, pid):
    """A slow call is in flight when the server gets SIGTERM: it must complete; new calls are refused."""
    s = stub(target)
    result = {}

    def slow():
        try:
            result["product"] = s.GetProduct(catalog_pb2.GetProductRequest(id="slow:1500"), timeout=10)
        except grpc.RpcError as err:
            result["error"] = f"{err.code()} {err.details()!r}"

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.4)
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.3)
    expect_code(lambda: stub(target).GetProduct(catalog_pb2.GetProductRequest(id="1"), timeout=2),
                grpc.StatusCode.UNAVAILABLE, "a new call after SIGTERM")
    t.join(15)
    expect("product" in result, f"the in-flight call did not complete: {result}")
    expect(result["product"].id == "1", f"in-flight call answer: {result}")
    print("drain ok")


def check_traced(target):
    """A call carrying W3C trace context, so the server's log line can name the trace."""
    s = stub(target)
    md = (("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),)
    expect(s.GetProduct(catalog_pb2.GetProductRequest(id="5"), metadata=md, timeout=5).id == "5", "traced call")
    print("traced ok")


def main(argv):
    check, target = argv[1], argv[2]
    if check == "flow":
        check_flow(target)
    elif check == "health":
        check_health(target, "catalog.ProductCatalog")
    elif check == "reflection":
        check_reflection(target, "catalog.ProductCatalog")
    elif check == "panic":
        check_panic(target)
    elif check == "garbage":
        check_garbage(target)
    elif check == "traced":
        check_traced(target)
    elif check == "drain":
        check_drain(target, int(argv[3]))
    else:
        raise SystemExit(f"unknown check {check!r}")


if __name__ == "__main__":
    main(sys.argv)
