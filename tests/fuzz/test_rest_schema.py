"""Schemathesis against the app's OpenAPI spec: every operation, as every kind of
caller, with generated valid and invalid data; no response may be a 5xx, every
status must be documented, every body must match its schema.

Each case is sent as one caller: a buyer, a seller, a staff member or a
stranger (user JWTs), the marketplace backend (server key), or another
marketplace's backend. Its path ids are the generated ones, the ids of objects
seeded in the caller's marketplace (so bodies reach the handlers' deeper code,
and signed links carry valid signatures), or ids of the other marketplace
(which must never answer 2xx). A case refused only because it needs the other
kind of principal (``server_required`` / ``user_required``) is sent again as
that kind, so every case reaches past the authentication layer.
A second pass sends no, malformed, expired or forged credentials.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import FuzzWorld
from tests.fuzz.world import (
    BUYER,
    Shop,
    max_examples,
    openapi_spec,
    randomized,
    unauth_examples,
)

# The spec is the app's own (``create_app(...).openapi()``, checked equal to what
# ``/openapi.json`` serves); requests go in-process to the app of ``fuzz_world``.
schema = schemathesis.openapi.from_dict(openapi_spec())
schemathesis.serializer.alias("text/csv", "text/plain")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CALLERS = ["buyer", "seller", "staff", "stranger", "server", "other_server"]
# Seeded ids twice as often: they make bodies reach the handlers' deeper code.
TARGETS = ["seeded", "seeded", "generated", "foreign"]
BAD_CREDENTIALS = ["none", "garbage", "expired", "forged", "unknown_key", "basic"]
# Ids that are secrets of one marketplace (a foreign one must answer 404);
# ``org_id`` and ``upload_id`` are names the caller chooses, not secrets.
SECRET_IDS = ("conversation_id", "order_id", "quote_id", "attachment_id")

COMMON: dict[str, Any] = {
    "deadline": None,
    "derandomize": not randomized(),
    "database": None,
    "suppress_health_check": list(HealthCheck),
}

# The user a ``user_required`` refusal is retried as, in turn per operation.
_USERS: dict[str, Iterator[str]] = defaultdict(
    lambda: itertools.cycle(["buyer", "seller", "staff"])
)


def _label(case: schemathesis.Case) -> str:
    return f"{case.operation.method.upper()} {case.operation.path}"


def _point_at(case: schemathesis.Case, shop: Shop, *, secret_ids_only: bool = False) -> None:
    params = case.path_parameters or {}
    for name in list(params):
        if name in shop.ids and (name in SECRET_IDS or not secret_ids_only):
            params[name] = shop.ids[name]
    if not secret_ids_only and case.operation.path in shop.queries:
        case.query = {**(case.query or {}), **shop.queries[case.operation.path]}


def _send(
    case: schemathesis.Case, world: FuzzWorld, headers: dict[str, str], caller: str
) -> Response:
    kept = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.headers = {**kept, **headers}
    response = case.call(base_url=world.base_url, session=world.client)
    world.counter.record(_label(case), caller, response.status_code)
    case.validate_response(response, checks=CHECKS)
    return response


def _refusal(response: Response) -> str | None:
    if response.status_code != 403:
        return None
    try:
        code = response.json().get("code")
    except ValueError:
        return None
    return code if code in ("server_required", "user_required") else None


@settings(max_examples=max_examples(), **COMMON)
@schema.given(caller=st.sampled_from(CALLERS), target=st.sampled_from(TARGETS))
@schema.parametrize()
def test_rest_as_every_caller(
    case: schemathesis.Case, caller: str, target: str, fuzz_world: FuzzWorld
) -> None:
    home, other = fuzz_world.home, fuzz_world.other
    if target == "seeded":
        _point_at(case, home)
    elif target == "foreign":
        _point_at(case, other, secret_ids_only=True)
    shop = other if caller == "other_server" else home
    identity = "server" if caller == "other_server" else caller
    response = _send(case, fuzz_world, shop.headers(identity), caller)
    refusal = _refusal(response)
    if refusal is not None:
        identity = "server" if refusal == "server_required" else next(_USERS[_label(case)])
        caller = f"{identity} (resent)"
        response = _send(case, fuzz_world, shop.headers(identity), caller)
    # The other marketplace's ids: "foreign" for the home callers, "seeded" (the
    # home marketplace's) for the other marketplace's backend. (Signed links take
    # no credentials: whoever holds a valid one may open it.)
    crosses = (target == "foreign") == (shop is home) and target != "generated"
    secured = bool(case.operation.definition.raw.get("security"))
    if crosses and secured and any(name in (case.path_parameters or {}) for name in SECRET_IDS):
        assert response.status_code >= 400, (
            f"another marketplace's object answered {response.status_code}: "
            f"{case.as_curl_command()}"
        )


def _bad_credentials(kind: str, world: FuzzWorld) -> dict[str, str]:
    kit = world.home.kit
    if kind == "none":
        return {}
    if kind == "garbage":
        return {"Authorization": "Bearer not.a.jwt"}
    if kind == "expired":
        token = kit.token(BUYER, "buyer", lifetime=timedelta(seconds=-3600))
        return {"Authorization": f"Bearer {token}"}
    if kind == "forged":
        claims = jwt.decode(kit.token(BUYER, "buyer"), options={"verify_signature": False})
        token = jwt.encode(claims, "a-secret-that-is-not-the-tenants-own", algorithm="HS256")
        return {"Authorization": f"Bearer {token}"}
    if kind == "unknown_key":
        return {"Authorization": "Bearer sk_" + "0" * 40}
    return {"Authorization": "Basic YnV5ZXI6cGFzc3dvcmQ="}


@settings(max_examples=unauth_examples(), **COMMON)
@schema.given(kind=st.sampled_from(BAD_CREDENTIALS), seeded=st.booleans())
@schema.parametrize()
def test_rest_without_valid_credentials(
    case: schemathesis.Case, kind: str, seeded: bool, fuzz_world: FuzzWorld
) -> None:
    if seeded:
        _point_at(case, fuzz_world.home, secret_ids_only=True)
    response = _send(case, fuzz_world, _bad_credentials(kind, fuzz_world), f"no-auth:{kind}")
    if case.operation.definition.raw.get("security"):
        # A body that cannot be parsed may be refused before the credentials are read.
        assert response.status_code in (400, 401, 403, 413, 415, 422), (
            f"{kind} credentials answered {response.status_code}: {case.as_curl_command()}"
        )


def test_every_operation_was_fuzzed(fuzz_world: FuzzWorld, request: pytest.FixtureRequest) -> None:
    """Runs after the two passes (file order): each operation of the spec got
    cases, and cases with valid credentials got past authentication."""
    names = {getattr(item, "originalname", item.name) for item in request.session.items}
    if not {"test_rest_as_every_caller", "test_rest_without_valid_credentials"} <= names:
        pytest.skip("only a part of the fuzz tests ran")
    spec_operations = {
        f"{method.upper()} {path}"
        for path, methods in openapi_spec()["paths"].items()
        for method in methods
    }
    counter = fuzz_world.counter
    assert set(counter.by_operation) == spec_operations
    for operation in spec_operations:
        callers = counter.by_operation[operation]
        assert any(not caller.startswith("no-auth:") for caller in callers), operation
        assert any(caller.startswith("no-auth:") for caller in callers), operation
        assert set(counter.statuses[operation]) - {"401"}, operation
