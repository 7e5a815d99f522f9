"""User tokens: pinned algorithm, required claims, injected clock, tenant-bound keys."""

import base64
import json
from datetime import timedelta

import jwt
import pytest

from chat_service.auth.tokens import TokenVerifier, mint_user_token
from chat_service.clock import ManualClock
from chat_service.errors import Unauthenticated

TENANT = "t_0123456789abcdef"
OTHER = "t_fedcba9876543210"
SECRETS = {TENANT: "s" * 64, OTHER: "o" * 64}
AUD = "marketplace-chat"


async def lookup(tenant_id: str) -> str | None:
    return SECRETS.get(tenant_id)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def verifier(clock: ManualClock) -> TokenVerifier:
    return TokenVerifier(lookup, audience=AUD, clock=clock, max_lifetime=timedelta(hours=24))


def token(clock: ManualClock, **overrides: object) -> str:
    values: dict[str, object] = {
        "tenant_id": TENANT,
        "signing_secret": SECRETS[TENANT],
        "audience": AUD,
        "user_id": "buyer-1",
        "name": "Ada",
        "role": "buyer",
        "email": "ada@x.test",
        "now": clock.now(),
    }
    values.update(overrides)
    return mint_user_token(**values)  # type: ignore[arg-type]


def forge(claims: dict[str, object], header: dict[str, object]) -> str:
    def b64(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64(header)}.{b64(claims)}."


async def test_valid_token(verifier: TokenVerifier, clock: ManualClock) -> None:
    user = await verifier.verify(token(clock))
    assert (user.tenant, user.user_id, user.role, user.email) == (
        TENANT,
        "buyer-1",
        "buyer",
        "ada@x.test",
    )
    assert user.label == f"user:{TENANT}/buyer-1"


async def test_expired_token(verifier: TokenVerifier, clock: ManualClock) -> None:
    issued = token(clock, lifetime=timedelta(minutes=5))
    clock.advance(5 * 60 + 31)  # past expiry and the 30 s leeway
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(issued)
    assert info.value.code == "token_expired"


async def test_within_leeway_still_valid(verifier: TokenVerifier, clock: ManualClock) -> None:
    issued = token(clock, lifetime=timedelta(minutes=5))
    clock.advance(5 * 60 + 10)
    assert (await verifier.verify(issued)).user_id == "buyer-1"


async def test_issued_in_the_future(verifier: TokenVerifier, clock: ManualClock) -> None:
    future = clock.now() + timedelta(hours=1)
    with pytest.raises(Unauthenticated, match="future"):
        await verifier.verify(token(clock, now=future))


async def test_lifetime_over_the_maximum(verifier: TokenVerifier, clock: ManualClock) -> None:
    with pytest.raises(Unauthenticated, match="lifetime"):
        await verifier.verify(token(clock, lifetime=timedelta(days=30)))


async def test_forged_signature(verifier: TokenVerifier, clock: ManualClock) -> None:
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(token(clock, signing_secret="x" * 48))
    assert info.value.code == "token_invalid"


async def test_alg_none_is_refused(verifier: TokenVerifier, clock: ManualClock) -> None:
    claims = jwt.decode(token(clock), options={"verify_signature": False})
    with pytest.raises(Unauthenticated, match="algorithm"):
        await verifier.verify(forge(claims, {"alg": "none", "typ": "JWT"}))


async def test_other_algorithm_is_refused(verifier: TokenVerifier, clock: ManualClock) -> None:
    forged = jwt.encode(
        jwt.decode(token(clock), options={"verify_signature": False}),
        SECRETS[TENANT],
        algorithm="HS512",
    )
    with pytest.raises(Unauthenticated, match="algorithm"):
        await verifier.verify(forged)


async def test_header_key_hints_are_ignored(verifier: TokenVerifier, clock: ManualClock) -> None:
    claims = jwt.decode(token(clock), options={"verify_signature": False})
    forged = jwt.encode(
        claims,
        "attacker-secret-" * 3,
        algorithm="HS256",
        headers={"kid": TENANT, "jku": "http://evil.test/keys"},
    )
    with pytest.raises(Unauthenticated):
        await verifier.verify(forged)


async def test_token_signed_by_another_tenant_for_this_one(
    verifier: TokenVerifier, clock: ManualClock
) -> None:
    # iss says TENANT, but it was signed with OTHER's secret.
    with pytest.raises(Unauthenticated):
        await verifier.verify(token(clock, signing_secret=SECRETS[OTHER]))


async def test_tenant_hint_mismatch(verifier: TokenVerifier, clock: ManualClock) -> None:
    other = token(clock, tenant_id=OTHER, signing_secret=SECRETS[OTHER])
    with pytest.raises(Unauthenticated, match="another marketplace"):
        await verifier.verify(other, tenant_hint=TENANT)


async def test_wrong_audience(verifier: TokenVerifier, clock: ManualClock) -> None:
    with pytest.raises(Unauthenticated, match=r"(?i)audience"):
        await verifier.verify(token(clock, audience="some-other-service"))


async def test_unknown_issuer(verifier: TokenVerifier, clock: ManualClock) -> None:
    with pytest.raises(Unauthenticated, match="unknown"):
        await verifier.verify(token(clock, tenant_id="t_aaaaaaaaaaaaaaaa"))


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "aud"])
async def test_required_claims(verifier: TokenVerifier, clock: ManualClock, missing: str) -> None:
    claims = jwt.decode(token(clock), options={"verify_signature": False})
    del claims[missing]
    with pytest.raises(Unauthenticated):
        await verifier.verify(jwt.encode(claims, SECRETS[TENANT], algorithm="HS256"))


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("role", "admin"),
        ("role", {"$ne": None}),
        ("sub", "bad id with spaces"),
        ("sub", {"$gt": ""}),
        ("name", "x" * 300),
        ("name", 7),
        ("exp", "tomorrow"),
    ],
)
async def test_invalid_claim_values(
    verifier: TokenVerifier, clock: ManualClock, claim: str, value: object
) -> None:
    claims = jwt.decode(token(clock), options={"verify_signature": False})
    claims[claim] = value
    with pytest.raises(Unauthenticated):
        await verifier.verify(jwt.encode(claims, SECRETS[TENANT], algorithm="HS256"))


async def test_operator_object_as_issuer(verifier: TokenVerifier, clock: ManualClock) -> None:
    claims = jwt.decode(token(clock), options={"verify_signature": False})
    claims["iss"] = {"$ne": None}
    with pytest.raises(Unauthenticated, match="issuer"):
        await verifier.verify(forge(claims, {"alg": "HS256", "typ": "JWT"}))


@pytest.mark.parametrize("raw", [None, "", 42, {"token": "x"}, "not.a.jwt", "a" * 5000, "...."])
async def test_garbage(verifier: TokenVerifier, raw: object) -> None:
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(raw)
    assert info.value.code == "token_invalid"
