"""The SDK's HTTP transport, configured for a function: the narrow adapter between sgguard and
``huaweicloudsdkcore``.

The SDK builds one ``requests.Session`` per client (``HttpClient._init_session``) and leaves it
at ``requests``' defaults, which cost CPU on every call for nothing a function needs:

* ``trust_env`` - every request re-reads the proxy variables (``getproxies_environment`` walks
  the whole environment twice), the CA-bundle variables and ``~/.netrc``. Here they are read
  **once**, when the client is built: without a proxy in the environment the session stops
  looking (``trust_env = False``) and a CA bundle named by ``REQUESTS_CA_BUNDLE`` /
  ``CURL_CA_BUNDLE`` goes into ``HttpConfig.ssl_ca_cert`` (the SDK's own setting), so TLS
  verification is exactly what it was. With a proxy configured (``HTTPS_PROXY`` & co.) the
  session keeps ``trust_env`` and behaves as before.
* the default response handler formats an access-log line (``str.format`` of the URL, status,
  ``elapsed``...) on every call even though its logger is off; :func:`quiet_http_handler` (given
  through the builder's ``with_http_handler``) formats it only when the logger would print it.
* response timestamps (``created_at``, ``updated_at`` of every group and rule) are parsed with
  ``dateutil`` (~90 us each); :func:`fast_datetime` parses the API's ISO 8601 form with
  ``datetime.fromisoformat`` and hands anything else to the SDK's own parser, so the models hold
  the same values.
* response reflection: the SDK parses each value's type string (``'list[Port]'``, with a regular
  expression) and looks its model class up by name for every value of every response;
  :func:`fast_deserializer` resolves each type string once per client and hands the SDK's own
  converters the class (~25 % of a port listing's deserialisation).
* ``requests.Session.request`` itself (cookie-jar merges, setting merges, hooks, a redirect
  generator: ~100 us per call) - without a proxy the session is a
  :class:`~shared.cloud.lean_session.LeanSession` holding the SDK session's adapters (the same
  pool, ``Retry``, TLS verification and timeouts), which builds the same ``PreparedRequest`` and
  calls the adapter's ``send`` directly. With a proxy configured the SDK's own session stays.
* urllib3 and ``requests``' adapter (its pool manager, ``Retry``, ``HTTPResponse``,
  ``build_response``: ~0.2 ms per call) - a plain call of the lean session goes over
  :class:`~shared.cloud.wire.Wire`: keep-alive ``http.client`` connections, the same request
  bytes, the same ``requests.Response`` and the same exceptions; anything it does not cover
  (``verify=False``, a client certificate, streaming, retries on) takes the adapter.
* the SDK signs every request on its client's thread pool (``Credentials.process_auth_request``
  submits ``sign_request`` and the caller waits on the future: two thread hand-offs per call, for
  a few microseconds of HMAC); :func:`sign_in_caller` signs in the calling thread - the same
  ``process_sts`` then ``sign_request``, so the same headers and the same exceptions, raised at the
  same point of ``do_http_request``.

Connection reuse and pool size are the SDK's own ``HttpConfig`` settings (``pool_connections``,
``pool_maxsize`` >= the batch's concurrency, in :mod:`shared.cloud.clients`). Everything here
reaches into the SDK at documented points only (``HttpClient._session``, the client's
``_deserialize`` and ``_deserialize_data_time``, its credentials' ``process_auth_request``); if a
future SDK renames them, :func:`tune_client` leaves the client as the SDK built it (slower, never
wrong) - ``tests/unit/test_transport.py`` says which.
"""

from __future__ import annotations

import logging
import os
import re
import urllib.request
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "quiet_http_handler",
    "fast_datetime",
    "prepare_http_config",
    "tune_client",
    "proxy_configured",
    "sign_in_caller",
    "fast_deserializer",
]

# What the APIs send: 2026-11-28T21:00:00Z, 2026-11-28T21:00:00.123Z (UTC, with or without the Z).
# An explicit offset goes to the SDK's parser: it appends "Z" and so keeps such a value as a string.
_LIST = re.compile(r"list\[(.*)\]")  # the SDK's patterns for its type strings (Client._deserialize)
_DICT = re.compile(r"dict\(([^,]*), (.*)\)")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?Z?\Z")  # 3.10 takes 3 or 6 digits


def proxy_configured() -> bool:
    """True when the environment names a proxy (``requests`` would use it): read once per client."""
    return bool(urllib.request.getproxies())


def fast_datetime(text: Any) -> Any:
    """``huaweicloudsdkcore.client.Client._deserialize_data_time`` for the common ISO form.

    The SDK appends ``Z`` to a timestamp without an offset and parses it with ``dateutil``: the
    result is the same aware datetime (UTC unless an offset is given). Anything else goes to the
    SDK's own parser (which warns and keeps the string when it cannot parse it).
    """
    if isinstance(text, str) and _ISO.match(text):
        return datetime.fromisoformat(text[:-1] if text.endswith("Z") else text).replace(tzinfo=timezone.utc)
    from huaweicloudsdkcore.client import Client

    return Client._deserialize_data_time(text)


def fast_deserializer(client: Any) -> Any:
    """``client._deserialize`` (the SDK's response reflection) with each type string parsed once.

    The SDK re-parses ``'list[Port]'`` with a regular expression and looks a model class up by
    name for every value of every response. Here a type string is resolved once per client into
    what the SDK would have done with it; a primitive is converted by the SDK's own
    ``_deserialize_primitive``, and everything else (models, dates, decimals, objects) goes to the
    SDK's ``_deserialize`` with the class already resolved, whose model path comes back here for
    each attribute. The values are the SDK's."""
    from huaweicloudsdkcore.http.bson_types import BSON_TYPES_MAPPING
    from huaweicloudsdkcore.http.formdata import FormFile
    from huaweicloudsdkcore.http.primitive_types import NATIVE_TYPES_MAPPING, PRIMITIVE_TYPES

    sdk_deserialize = client._deserialize  # the class's method, bound: its recursion finds this one
    primitive = client._deserialize_primitive
    package = client.model_package
    resolved: dict[str, tuple[str, Any]] = {}

    def resolve(name: str) -> tuple[str, Any]:
        if name.startswith("list["):
            return "list", _LIST.match(name).group(1)  # type: ignore[union-attr]  # the SDK's own pattern
        if name.startswith("dict("):
            return "dict", _DICT.match(name).group(2)  # type: ignore[union-attr]
        if name in BSON_TYPES_MAPPING:
            return "raw", None
        if name in NATIVE_TYPES_MAPPING:
            klass = NATIVE_TYPES_MAPPING[name]
        elif name == FormFile.TYPE:
            return "form", FormFile
        else:
            klass = getattr(package, name)
        return ("primitive" if klass in PRIMITIVE_TYPES else "class"), klass

    def deserialize(data: Any, klass: Any) -> Any:
        if data is None:
            return None
        if not isinstance(klass, str):
            return sdk_deserialize(data, klass)
        kind = resolved.get(klass)
        if kind is None:
            kind = resolved[klass] = resolve(klass)
        tag, target = kind
        if tag == "primitive":
            return primitive(data, target)
        if tag == "list":
            return [deserialize(item, target) for item in (data if isinstance(data, list) else [data])]
        if tag == "dict":
            return {key: deserialize(value, target) for key, value in data.items()}
        if tag == "raw":
            return data
        if tag == "form":
            return target(data)
        return sdk_deserialize(data, target)

    return deserialize


def _quiet_handler_class() -> type:
    from huaweicloudsdkcore.http.http_handler import HttpHandler

    class _Quiet(HttpHandler):  # type: ignore[misc]  # the SDK is untyped
        """The SDK's handler; the per-call access-log line only when its logger would print it."""

        def process_response(self, **kwargs: Any) -> None:
            logger = kwargs.get("logger")
            if logger is None or logger.isEnabledFor(logging.INFO):
                super().process_response(**kwargs)

    return _Quiet


_QUIET: list[type] = []


def quiet_http_handler() -> Any:
    """A ``huaweicloudsdkcore`` ``HttpHandler`` whose default access-log line costs nothing when off."""
    if not _QUIET:
        _QUIET.append(_quiet_handler_class())
    return _QUIET[0]()


def prepare_http_config(config: Any, *, use_env: bool) -> Any:
    """Before the build: when the session will not read the environment, the CA bundle it would
    have read from it goes into the SDK's own ``ssl_ca_cert`` (verification unchanged)."""
    if not use_env and not config.ssl_ca_cert and not config.ignore_ssl_verification:
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            config.ssl_ca_cert = bundle
    return config


class _Signed:
    """What ``process_auth_request`` returns to ``do_http_request``: a request already signed (the
    SDK only calls ``result()`` on it)."""

    __slots__ = ("request",)

    def __init__(self, request: Any):
        self.request = request

    def result(self, timeout: float | None = None) -> Any:
        return self.request


def sign_in_caller(credentials: Any) -> bool:
    """``credentials`` sign in the calling thread from now on (see the module's docstring).

    An instance attribute, not a subclass: the SDK's builder checks the credentials' class name.
    False when the credentials lack what this relies on (left as they are)."""
    if not all(callable(getattr(credentials, name, None)) for name in ("process_sts", "sign_request")):
        return False

    def process_auth_request(request: Any, http_client: Any) -> _Signed:
        credentials.process_sts(http_client)
        return _Signed(credentials.sign_request(request))

    credentials.process_auth_request = process_auth_request
    return True


def tune_client(client: Any, *, use_env: bool) -> list[str]:
    """After the build: the session stops reading the environment and takes the lean path (unless
    a proxy is configured), requests are signed in the caller's thread and timestamps take the
    fast path. Returns what was tuned (for tests)."""
    tuned: list[str] = []
    http_client = client.get_http_client()
    session = getattr(http_client, "_session", None)
    if session is not None and hasattr(session, "trust_env"):
        session.trust_env = use_env
        tuned.append("session.trust_env")
        if not use_env and hasattr(session, "adapters"):
            from shared.cloud.lean_session import adopt

            http_client._session = adopt(session)
            tuned.append("session.lean")
    credentials = client.get_credentials() if callable(getattr(client, "get_credentials", None)) else None
    if callable(getattr(credentials, "process_auth_request", None)) and sign_in_caller(credentials):
        tuned.append("sign_in_caller")
    if callable(getattr(client, "_deserialize_data_time", None)):
        client._deserialize_data_time = fast_datetime
        tuned.append("datetime")
    if all(callable(getattr(client, name, None)) for name in ("_deserialize", "_deserialize_primitive")):
        client._deserialize = fast_deserializer(client)
        tuned.append("deserialize")
    return tuned
