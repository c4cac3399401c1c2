"""Member-account credentials: the function's agency assumes each member's agency through STS.

``AssumeAgency`` (``huaweicloudsdksts.v1.StsClient.assume_agency``, ``POST /v5/agencies/assume``;
IAM ``sts:agencies:assume``) with the agency URN ``iam::<member>:agency:<name>``, a session name
carrying the function and the request id (CTS in the member account shows it), the TARGETS
duration (at most 3600 s: the caller holds temporary credentials) and the account's external id.

A session is cached per (account, agency) until :data:`REFRESH_BEFORE_S` before it expires, for
every region of that account and for the next invocations of the instance; one assume per key
even when many messages need it at once (single flight); a refusal is remembered for
:data:`REFUSAL_TTL_S`, so a broken account costs one call, not one per message. Credentials
never appear in a repr or a log line.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.cloud.exceptions import CloudCallError
from shared.cloud.gateway import Gateway
from shared.errors import ErrorCode

if TYPE_CHECKING:
    from shared.targets import MemberAccount

__all__ = ["MemberSession", "AssumeFailed", "StsGateway", "SessionCache", "SESSIONS", "session_name"]

REFRESH_BEFORE_S = 300.0  # renewed this long before it expires: no call starts on credentials about to lapse
REFUSAL_TTL_S = 60.0  # how long a refused assume is answered from memory
_SESSION_CHARS = re.compile(r"[^A-Za-z0-9_+=,.@-]")


@dataclass(frozen=True)
class MemberSession:
    """Temporary credentials of a member's agency."""

    ak: str = field(repr=False)
    sk: str = field(repr=False)
    security_token: str = field(repr=False)
    expires_at: float  # epoch seconds


class AssumeFailed(Exception):
    """The member agency could not be assumed: ``code`` (``AGENCY_MISSING``, ``ACCESS_DENIED``,
    ``ASSUME_FAILED``) and whether trying again later may help."""

    def __init__(self, code: str, message: str, *, retryable: bool):
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


def session_name(function: str, request_id: str) -> str:
    """``sgguard-<function>-<request id>`` in AssumeAgency's alphabet, 2..128 characters."""
    return _SESSION_CHARS.sub("-", f"sgguard-{function}-{request_id}")[:128]


def _refusal(error: CloudCallError, urn: str) -> AssumeFailed:
    if error.status == 404:
        return AssumeFailed(ErrorCode.AGENCY_MISSING, f"{urn} does not exist ({error.code})", retryable=False)
    if error.status == 403:
        message = f"assuming {urn} was refused ({error.code}): trust, external id or sts:agencies:assume"
        return AssumeFailed(ErrorCode.ACCESS_DENIED, message, retryable=False)
    retryable = error.transient or error.status in (None, 401)
    return AssumeFailed(ErrorCode.ASSUME_FAILED, f"assuming {urn}: {error.describe()}", retryable=retryable)


class StsGateway(Gateway):
    """STS with the function's own (home) credentials; transient failures retried like reads."""

    def assume(self, member: MemberAccount, *, session: str, duration_s: int) -> MemberSession:
        from huaweicloudsdksts.v1 import AssumeAgencyReqBody, AssumeAgencyRequest

        client = self.factory.sts()
        body = AssumeAgencyReqBody(
            agency_urn=member.agency_urn,
            agency_session_name=session,
            duration_seconds=duration_s,
            external_id=member.external_id,
        )
        try:
            response = self._read("sts.assume_agency", lambda: client.assume_agency(AssumeAgencyRequest(body=body)))
        except CloudCallError as error:
            raise _refusal(error, member.agency_urn) from None
        credentials = response.credentials
        expiration: Any = getattr(credentials, "expiration", None)  # a datetime once the SDK parsed it
        expires_at = expiration.timestamp() if hasattr(expiration, "timestamp") else self.clock.epoch() + duration_s
        return MemberSession(
            credentials.access_key_id, credentials.secret_access_key, credentials.security_token, expires_at
        )


@dataclass(frozen=True)
class _Refused:
    error: AssumeFailed
    until: float


class SessionCache:
    """(account, agency) -> session, per process; ``assumed`` counts the assume calls made."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], MemberSession | _Refused] = {}
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self.assumed = 0

    def session(self, member: MemberAccount, now: float, assume: Callable[[], MemberSession]) -> MemberSession:
        key = (member.domain_id, member.agency)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # single flight: the others wait for the first one's answer
            entry = self._entries.get(key)
            if isinstance(entry, MemberSession) and entry.expires_at - REFRESH_BEFORE_S > now:
                return entry
            if isinstance(entry, _Refused) and entry.until > now:
                raise entry.error
            self.assumed += 1
            try:
                session = assume()
            except AssumeFailed as error:
                if not error.retryable:
                    self._entries[key] = _Refused(error, now + REFUSAL_TTL_S)
                raise
            self._entries[key] = session
            return session

    def access_key(self, domain_id: str, agency: str) -> str | None:
        """The access key of the cached session of (account, agency), if any (never the secret):
        sg_drift recognises the traces of its own changes in that account by it."""
        entry = self._entries.get((domain_id, agency))
        return entry.ak if isinstance(entry, MemberSession) else None

    def clear(self) -> None:
        with self._guard:
            self._entries.clear()
            self.assumed = 0

    def __repr__(self) -> str:  # never the credentials
        return f"SessionCache({len(self._entries)} entries)"


SESSIONS = SessionCache()
