"""The ``webhook`` sink: HTTPS POST of each result CloudEvent to a ticketing system, signed.

``{"type": "webhook", "name": "servicenow"}`` with the URL in setting ``WEBHOOK_URLS``
(``{"servicenow": "https://..."}``; put it in encrypted user data). The URL is chosen by name
from configuration only: nothing in a request or a result can point a webhook anywhere (no
SSRF), redirects are not followed, and only ``https://`` is allowed (``http://`` only to
127.0.0.1 / localhost / [::1], for local tests).

Body: the CloudEvent in structured JSON mode, ``Content-Type: application/cloudevents+json``;
with ``"batch": true``, a JSON array of events (``application/cloudevents-batch+json``), at most
``batch_size`` (default 20) events per POST. Signed like change requests are:
``X-Signature: keyId=<id>,timestamp=<RFC 3339>,value=<hex HMAC-SHA256(secret, "sgguard-result-v1." +
timestamp + "." + body)>`` (``shared.signing.sign_payload_headers``; verify with ``verify_payload_headers``). The
key: ``key_id`` of the entry, looked up in ``WEBHOOK_SIGNING_KEYS`` (JSON key id -> secret) only,
never in ``REQUEST_SIGNING_KEYS`` (a secret in both is refused); without ``key_id``, the one key of
``WEBHOOK_SIGNING_KEYS``. The signed text starts with ``sgguard-result-v1.``.

Other entry keys: ``timeout_s`` (default 5, capped by the time left), ``max_attempts``,
``concurrency``. 2xx = delivered; 408, 425, 429 and 5xx (honouring ``Retry-After``) and network
errors are retried; any other status is final.
"""

from __future__ import annotations

import http.client
import json
import ssl
import urllib.error
import urllib.request
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from shared.signing import sign_payload_headers
from shared.sinks.base import Sink, config_bool, config_float, config_int, config_str
from shared.sinks.exceptions import SinkError
from shared.timestamps import format_timestamp

if TYPE_CHECKING:
    from shared.clock import Deadline
    from shared.sinks.base import SinkRun

__all__ = ["WebhookSink", "check_url", "LOCAL_HOSTS"]

CONTENT_TYPE = "application/cloudevents+json"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
USER_AGENT = "sgguard-result-sink/1"
_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
_MAX_BODY_BYTES = 1024 * 1024
_MIN_TIMEOUT_S = 0.2


def check_url(url: object) -> str | None:
    """Why ``url`` may not be a webhook target, or None."""
    if not isinstance(url, str) or not url.strip():
        return "the URL must be a non-empty string"
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "the URL is malformed"
    if parts.username or parts.password:
        return "the URL must not carry credentials (the X-Signature header authenticates the call)"
    if not parts.hostname:
        return "the URL has no host"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return None
    return "the URL must use https:// (http:// only to 127.0.0.1 or localhost)"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not an instruction: following it could reach anywhere."""

    def redirect_request(  # noqa: D401
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


class WebhookSink(Sink):
    kind = "webhook"
    default_concurrency = 2

    def __init__(self, name: str, config: dict[str, Any], run: SinkRun, deadline: Deadline) -> None:
        super().__init__(name, config, run, deadline)
        self.hook = config_str(self, "name", max_len=64)
        urls, webhook_keys = run.settings.webhook_urls, dict(run.settings.webhook_signing_keys)
        url = urls.get(self.hook)
        if url is None:
            raise self.config_error(f"WEBHOOK_URLS has no URL named {self.hook!r}", "WEBHOOK_URLS")
        problem = check_url(url)
        if problem:
            raise self.config_error(f"WEBHOOK_URLS[{self.hook!r}]: {problem}", "WEBHOOK_URLS")
        self.url = url.strip()
        self.key_id, self.secret = self._signing_key(webhook_keys)
        self.batch = config_bool(self, "batch", False)
        self.max_batch_events = config_int(self, "batch_size", 20, 1, 100) if self.batch else 1
        self.max_batch_bytes = _MAX_BODY_BYTES if self.batch else None
        self.timeout_s = config_float(self, "timeout_s", 5.0, 0.2, 30.0)
        context = ssl.create_default_context()
        self._opener = urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=context))

    def _signing_key(self, webhook_keys: dict[str, Any]) -> tuple[str, str]:
        key_id = self.config.get("key_id")
        if key_id is None:
            if len(webhook_keys) != 1:
                raise self.config_error(
                    f"RESULT_SINKS entry {self.name!r} needs 'key_id' (WEBHOOK_SIGNING_KEYS "
                    f"has {len(webhook_keys)} keys, not exactly one)",
                    "WEBHOOK_SIGNING_KEYS",
                )
            key_id = next(iter(webhook_keys))
        if not isinstance(key_id, str):
            raise self.config_error(f"RESULT_SINKS entry {self.name!r}: 'key_id' must be a string", "RESULT_SINKS")
        secret = webhook_keys.get(key_id)
        if not isinstance(secret, str) or len(secret) < 16:
            raise self.config_error(
                f"no signing secret (at least 16 characters) for key id {key_id!r} in WEBHOOK_SIGNING_KEYS",
                "WEBHOOK_SIGNING_KEYS",
            )
        if secret in self.run.settings.signing_keys.values():
            # Results and requests must never be signed alike: a request read off a queue is no result.
            raise self.config_error(
                f"key id {key_id!r}: a webhook secret must not also be a request-signing secret (REQUEST_SIGNING_KEYS)",
                "WEBHOOK_SIGNING_KEYS",
            )
        try:
            sign_payload_headers(b"", key_id=key_id, secret=secret, timestamp="2000-01-01T00:00:00Z")
        except ValueError as error:
            raise self.config_error(f"signing key id {key_id!r}: {error}", "WEBHOOK_SIGNING_KEYS") from None
        return key_id, secret

    def send(self, events: list[dict[str, Any]]) -> dict[int, SinkError] | None:
        payload = events if self.batch else events[0]
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {
            "Content-Type": BATCH_CONTENT_TYPE if self.batch else CONTENT_TYPE,
            "User-Agent": USER_AGENT,
            "Accept": "application/json, */*;q=0.1",
        }
        headers.update(
            sign_payload_headers(
                body, key_id=self.key_id, secret=self.secret, timestamp=format_timestamp(self.run.clock.now())
            )
        )
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        timeout = max(_MIN_TIMEOUT_S, min(self.timeout_s, self.deadline.remaining()))
        try:
            with self._opener.open(request, timeout=timeout) as response:
                response.read(65536)
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
            retry_after = _retry_after(error.headers.get("Retry-After") if error.headers else None)
            error.close()
            raise self._status_error(status, retry_after) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException, OSError) as error:
            reason = getattr(error, "reason", error)
            raise self.error(
                f"POST failed: {type(reason).__name__}: {str(reason)[:200]}", transient=True, code="NETWORK"
            ) from None
        if not 200 <= status < 300:
            raise self._status_error(status, None)
        return None

    def _status_error(self, status: int, retry_after: float | None) -> SinkError:
        if 300 <= status < 400:
            return self.error(
                "the webhook answered with a redirect; redirects are not followed", status=status, code="REDIRECT"
            )
        return self.error(
            "the webhook refused the event" if status < 500 else "the webhook failed",
            status=status,
            transient=status in _TRANSIENT_STATUS,
            retry_after=retry_after,
        )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP date: the back-off decides
    return seconds if seconds >= 0 else None
