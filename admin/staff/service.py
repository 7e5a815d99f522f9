"""Staff accounts, sign-in and sessions.

Sign-in answers the same for an unknown login, a wrong password and a locked
login (``SignInRefused``), and spends the same password-hashing work on each.
After ``admin_max_failed_sign_ins`` consecutive failures a login is locked for
``admin_lockout_minutes``. Sessions idle out after the tenant policy's
``staff.session_idle_minutes`` (``policies.staff_session_expired``) and end
after ``admin_session_max_hours`` regardless. Sign-ins, refusals and
sign-outs (including idle timeouts) are audited under the staff id, never the login.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from admin.config import AdminSettings
from admin.errors import SignInRefused
from admin.staff.repository import StaffRepository
from admin.staff.schemas import LOGIN_PATTERN, STAFF_ROLES, StaffAccount, StaffRole, StaffSession
from chat_service.audit import AuditActor, AuditLog
from chat_service.audit.schemas import SYSTEM_TENANT, TENANT_PATTERN
from chat_service.clock import Clock
from chat_service.compliance.service import PolicyService
from chat_service.conversations.rules import to_millis
from chat_service.errors import BadRequest
from policies import staff_session_expired

__all__ = ["StaffService", "generate_password", "session_key_hash"]

_LOGIN = re.compile(LOGIN_PATTERN)
_TENANT = re.compile(TENANT_PATTERN)
_REFUSED = "sign-in refused: check the marketplace, login and password, or wait and retry"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    # Verified against for unknown logins, so they cost what a known one costs.
    return _hasher().hash(secrets.token_urlsafe(16))


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def session_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _account(doc: dict[str, Any]) -> StaffAccount:
    return StaffAccount(
        id=doc["_id"],
        tenant=doc["tenant"],
        login=doc["login"],
        role=doc["role"],
        password_hash=doc["password_hash"],
        disabled=bool(doc.get("disabled", False)),
    )


def _session(key: str, doc: dict[str, Any]) -> StaffSession:
    return StaffSession(
        key=key,
        staff_id=doc["staff_id"],
        tenant=doc["tenant"],
        login=doc["login"],
        role=doc["role"],
        csrf=doc["csrf"],
        created_at=doc["created_at"],
        last_seen=doc["last_seen"],
    )


class StaffService:
    def __init__(
        self,
        repository: StaffRepository,
        *,
        audit: AuditLog,
        policies: PolicyService,
        clock: Clock,
        settings: AdminSettings,
    ) -> None:
        self._repo = repository
        self._audit = audit
        self._policies = policies
        self._clock = clock
        self._settings = settings

    async def create(self, tenant: str, login: str, role: str) -> tuple[StaffAccount, str]:
        """A new account with a generated password, returned once."""
        if not _TENANT.fullmatch(tenant):
            raise BadRequest("tenant must be a tenant id", code="invalid_request")
        login = login.strip().lower()
        if not _LOGIN.fullmatch(login):
            raise BadRequest("login must be 3-120 of A-Z a-z 0-9 _ . + @ -", code="invalid_request")
        if role not in STAFF_ROLES:
            raise BadRequest(
                f"role must be one of {', '.join(STAFF_ROLES)}", code="invalid_request"
            )
        password = generate_password()
        password_hash = await asyncio.to_thread(_hasher().hash, password)
        doc = {
            "_id": "stf_" + secrets.token_hex(8),
            "tenant": tenant,
            "login": login,
            "role": role,
            "password_hash": password_hash,
            "disabled": False,
            "created_at": to_millis(self._clock.now()),
        }
        await self._repo.insert_user(doc)
        return _account(doc), password

    async def sign_in(self, tenant: str, login: str, password: str) -> StaffSession:
        login = login.strip().lower()
        if not _TENANT.fullmatch(tenant) or not _LOGIN.fullmatch(login) or len(password) > 1024:
            await asyncio.to_thread(_verify, _decoy_hash(), password[:1024])
            await self._refused(SYSTEM_TENANT, None, "malformed")
            raise SignInRefused(_REFUSED)
        now = self._clock.now()
        attempt_key = f"{tenant}|{login}"
        doc = await self._repo.user_by_login(tenant, login)
        account = _account(doc) if doc else None
        ok = await asyncio.to_thread(
            _verify, account.password_hash if account else _decoy_hash(), password
        )
        attempts = await self._repo.attempts(attempt_key)
        locked_until = attempts.get("locked_until") if attempts else None
        if locked_until is not None and locked_until.tzinfo is None:
            locked_until = locked_until.replace(tzinfo=now.tzinfo)
        chain = tenant if account else SYSTEM_TENANT
        if locked_until is not None and now < locked_until:
            await self._refused(chain, account, "locked")
            raise SignInRefused(_REFUSED)
        if account is None or account.disabled or not ok:
            failures = await self._repo.record_failure(attempt_key, now)
            if failures >= self._settings.admin_max_failed_sign_ins:
                minutes = self._settings.admin_lockout_minutes
                await self._repo.lock(attempt_key, now + timedelta(minutes=minutes))
            reason = "unknown_login" if account is None else "bad_password"
            await self._refused(chain, account, reason, failures=failures)
            raise SignInRefused(_REFUSED)
        await self._repo.clear_attempts(attempt_key)
        key = secrets.token_urlsafe(32)
        at = to_millis(now)
        session_doc = {
            "_id": session_key_hash(key),
            "staff_id": account.id,
            "tenant": account.tenant,
            "login": account.login,
            "role": account.role,
            "csrf": secrets.token_urlsafe(32),
            "created_at": at,
            "last_seen": at,
        }
        await self._repo.insert_session(session_doc)
        await self._audit.record(
            account.tenant,
            self.actor(account.id, account.role),
            "staff.signed_in",
            target_type="staff",
            target_id=account.id,
        )
        return _session(key, session_doc)

    async def session(self, key: str) -> StaffSession | None:
        """The live session behind a cookie value, touched; None when there is
        none or it idled out (then it is ended and audited)."""
        if not key or len(key) > 200:
            return None
        key_hash = session_key_hash(key)
        doc = await self._repo.session(key_hash)
        if doc is None:
            return None
        found = _session(key, doc)
        now = self._clock.now()
        last_seen = _aware(found.last_seen, now)
        created = _aware(found.created_at, now)
        policy = await self._policies.current(found.tenant)
        max_age = timedelta(hours=self._settings.admin_session_max_hours)
        if staff_session_expired(last_seen, policy, now):
            await self._end(found, "idle_timeout")
            return None
        if now - created >= max_age:
            await self._end(found, "max_age")
            return None
        await self._repo.touch_session(key_hash, to_millis(now))
        return found

    async def sign_out(self, session: StaffSession) -> None:
        await self._end(session, "signed_out")

    @staticmethod
    def actor(staff_id: str, role: StaffRole | str) -> AuditActor:
        return AuditActor(type="staff", id=staff_id, role=role)

    async def _end(self, session: StaffSession, reason: str) -> None:
        if await self._repo.delete_session(session_key_hash(session.key)):
            await self._audit.record(
                session.tenant,
                self.actor(session.staff_id, session.role),
                "staff.signed_out",
                target_type="staff",
                target_id=session.staff_id,
                details={"reason": reason},
            )

    async def _refused(
        self, chain: str, account: StaffAccount | None, reason: str, *, failures: int = 0
    ) -> None:
        # The attempted login never enters the log: it may be a password typed in the wrong box.
        staff_id = account.id if account else "unknown"
        actor = AuditActor(type="staff", id=staff_id, role=account.role if account else None)
        details: dict[str, object] = {"reason": reason}
        if failures:
            details["failures"] = failures
        await self._audit.record(
            chain,
            actor,
            "staff.sign_in_failed",
            target_type="staff",
            target_id=staff_id,
            details=details,
        )


def _aware(moment: Any, now: Any) -> Any:
    return moment.replace(tzinfo=now.tzinfo) if moment.tzinfo is None else moment
