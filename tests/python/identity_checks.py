"""An outside caller of a service with caller identity on: Python grpcio sending Google-style ID
tokens as bearer tokens, both as plain `authorization` metadata and through grpcio's own call
credentials. Usage:

    identity_checks.py TARGET ALICE_TOKEN EXPIRED_TOKEN TRAININGS_TOKEN OTHER_AUDIENCE_TOKEN

TARGET is a trainer service in verify mode; the tokens are for its audience (but the last).
Prints what it verified; a failed expectation raises, so the exit status is non-zero and the
message says what differed."""
import os
import subprocess
import sys
import tempfile

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from google.protobuf import timestamp_pb2

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.join(HERE, "..", "..", "examples", "workouts-api", "proto")
TEN = 1_893_492_000  # 2030-01-01 10:00 UTC


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


def compile_trainer_proto(out):
    """Generates trainer_pb2 with grpcio-tools, as a Python team consuming the proto would."""
    import grpc_tools
    wkt = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    for proto in ["trainer/trainer.proto", "cloudrun/auth.proto"]:
        subprocess.run(
            [sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{wkt}",
             f"--python_out={out}", f"--grpc_python_out={out}", proto],
            check=True,
        )
    sys.path.insert(0, out)


def main(target, alice, expired, trainings, other_audience):
    with tempfile.TemporaryDirectory() as out:
        compile_trainer_proto(out)
        from trainer import trainer_pb2, trainer_pb2_grpc

        ten = timestamp_pb2.Timestamp(seconds=TEN)
        ask = trainer_pb2.IsHourAvailableRequest(time=ten)
        book = trainer_pb2.UpdateHourRequest(time=ten, has_training_scheduled=True, available=False)

        channel = grpc.insecure_channel(target)
        stub = trainer_pb2_grpc.TrainerServiceStub(channel)
        bearer = lambda token: [("authorization", f"Bearer {token}")]

        reply = stub.IsHourAvailable(ask, metadata=bearer(alice), timeout=5)
        expect(reply.is_available, f"IsHourAvailable with Alice's token: {reply}")
        print("ok: a valid bearer token is accepted")

        err = expect_code(lambda: stub.IsHourAvailable(ask, timeout=5),
                          grpc.StatusCode.UNAUTHENTICATED, "no token")
        expect("carries no ID token" in err.details(), f"no token: {err.details()!r}")
        print("ok: no token is UNAUTHENTICATED")

        err = expect_code(lambda: stub.IsHourAvailable(ask, metadata=bearer(expired), timeout=5),
                          grpc.StatusCode.UNAUTHENTICATED, "expired token")
        expect("expired" in err.details(), f"expired token: {err.details()!r}")
        print("ok: an expired token is UNAUTHENTICATED and says expired")

        err = expect_code(lambda: stub.IsHourAvailable(ask, metadata=bearer(other_audience), timeout=5),
                          grpc.StatusCode.UNAUTHENTICATED, "token for another audience")
        expect("audience" in err.details(), f"other audience: {err.details()!r}")
        print("ok: a token for another audience is UNAUTHENTICATED")

        err = expect_code(lambda: stub.IsHourAvailable(ask, metadata=bearer(alice[:-4] + "AAAA"), timeout=5),
                          grpc.StatusCode.UNAUTHENTICATED, "bad signature")
        print("ok: a token with a broken signature is UNAUTHENTICATED")

        err = expect_code(lambda: stub.UpdateHour(book, metadata=bearer(alice), timeout=5),
                          grpc.StatusCode.PERMISSION_DENIED, "Alice booking")
        expect("alice@example.com may not call /trainer.TrainerService/UpdateHour" == err.details(),
               f"Alice booking: {err.details()!r}")
        print("ok: a verified caller the proto does not allow is PERMISSION_DENIED")

        # grpcio's own way to attach a bearer token: call credentials, which it only sends over
        # a secure channel; local credentials make loopback TCP count as one.
        credentials = grpc.composite_channel_credentials(
            grpc.local_channel_credentials(grpc.LocalConnectionType.LOCAL_TCP),
            grpc.access_token_call_credentials(trainings),
        )
        secure_stub = trainer_pb2_grpc.TrainerServiceStub(grpc.secure_channel(target, credentials))
        secure_stub.UpdateHour(book, timeout=5)
        reply = secure_stub.IsHourAvailable(ask, timeout=5)
        expect(not reply.is_available, f"after booking: {reply}")
        print("ok: the allowed account books through grpcio call credentials")

        health = health_pb2_grpc.HealthStub(channel)
        for service in ["", "trainer.TrainerService"]:
            status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
            expect(status == health_pb2.HealthCheckResponse.SERVING, f"health {service!r}: {status}")
        print("ok: health answers without a token")


if __name__ == "__main__":
    main(*sys.argv[1:6])
