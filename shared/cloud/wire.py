"""A plain SDK call sent with ``http.client`` on pooled keep-alive connections: the bytes
urllib3 would write, a ``requests.Response`` as requests' adapter would build, less CPU.

Under :class:`~shared.cloud.lean_session.LeanSession`, a plain call (no proxy, no streaming, a
body that is bytes, text or nothing) goes through the SDK's ``HTTPAdapter``: urllib3's pool manager,
its ``Retry``, its ``HTTPResponse`` and requests' ``build_response``, a stack of generality that
costs more CPU per call than the handler's own work. :class:`Wire` does what that stack does for
such a call and nothing else:

* **bytes**: ``putrequest`` / ``putheader`` / ``endheaders`` of ``http.client`` (which urllib3
  calls too), the target quoted by urllib3's own ``_encode_target``, ``Host`` and
  ``Accept-Encoding`` skipped when given, urllib3's ``User-Agent`` when none is, a text body in
  UTF-8: the same request on the wire (``tests/unit/test_wire.py`` compares what a server
  receives), head and body in one ``send``.
* **connections**: keep-alive ``HTTPConnection`` / ``HTTPSConnection`` per (scheme, host, port),
  at most the adapter's ``pool_maxsize`` idle ones kept (LIFO, as urllib3's queue), one thread at
  a time on each. A pooled connection the server closed (idle timeout, ``Connection: close``) is
  seen before the request is written (the socket is readable: urllib3's ``is_connection_dropped``)
  and replaced. A request is written once: the SDK's ``Retry(total=0)`` re-sends nothing, so a
  failure after writing is an error here too.
* **TLS**: verification on (certifi's bundle, or the ``verify`` path the SDK passes), the host
  name checked, urllib3's context settings (``create_urllib3_context``, ALPN ``http/1.1``); the
  context is built once per CA bundle rather than once per connection.
* **errors**: the adapter's ``Retry`` (taken only when it re-sends nothing: ``total=0``) decides,
  through its own ``increment``, what a failure becomes - ``MaxRetryError`` for what it counts (a
  GET / PUT / DELETE read error with the SDK's ``Retry``), the error itself otherwise (a POST's,
  or any with requests' default ``read=False``) - and requests' adapter's mapping gives the same
  exception types and messages (``ConnectionError``, ``ReadTimeout``, ``ConnectTimeout``; a 429
  in its ``status_forcelist``: ``RetryError``), so the SDK maps them to the same SDK exceptions.
  A *new* connection that cannot be set up (refused, unknown host, TLS refused) hands the call to
  the stock adapter, which raises exactly what it always did (the connect is tried a second time;
  nothing was written); a TCP connect timeout is raised here, so the wait is not doubled.
* **response**: status, reason, headers (duplicates joined as urllib3's ``HTTPHeaderDict`` does),
  the body read whole (Content-Length or chunked, ``http.client``), decoded by urllib3's own
  decoder for a ``Content-Encoding`` it knows, the encoding, url, request, elapsed, cookies.

:meth:`Wire.send` returns ``None`` for anything else (``verify=False``, a client certificate, a
non-default adapter, an unusual host, a streamed body...): the caller uses the stock adapter.
"""

from __future__ import annotations

import http.client
import re
import ssl
import threading
from collections import OrderedDict
from datetime import timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

import requests
from requests.cookies import extract_cookies_to_jar
from requests.models import PreparedRequest
from requests.sessions import preferred_clock
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import exceptions as u3
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from shared.cloud.wire_connections import OneWriteHTTP, OneWriteHTTPS, dropped, tls_context

try:  # urllib3's own helpers, so the bytes and the decoding are its; renamed in a future urllib3: no wire
    from urllib3.connection import _get_default_user_agent
    from urllib3.response import _get_decoder
    from urllib3.util.url import _encode_target

    AVAILABLE = True
except ImportError:  # pragma: no cover - the pinned urllib3 has them (tests/unit/test_wire.py)
    AVAILABLE = False

__all__ = ["Wire", "AVAILABLE"]

_SIMPLE_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?\Z")  # lower-case name or IPv4: Host as urllib3 writes it
_DEFAULT_PORT = {"http": 80, "https": 443}


class _PoolName:
    """What urllib3's exception messages print for the pool: ``HTTPConnectionPool(host=..., port=...)``."""

    def __init__(self, scheme: str, host: str, port: int):
        self.text = f"{'HTTPS' if scheme == 'https' else 'HTTP'}ConnectionPool(host={host!r}, port={port!r})"

    def __str__(self) -> str:
        return self.text


class _Raw:
    """``Response.raw`` after the body was read: what requests' cookie code and ``close`` touch."""

    __slots__ = ("_original_response", "reason", "status", "headers")

    def __init__(self, response: http.client.HTTPResponse, headers: CaseInsensitiveDict[str]):
        self._original_response = response
        self.reason = response.reason
        self.status = response.status
        self.headers = headers

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        pass


def _pool(key: tuple[str, str, int]) -> Any:
    """The pool argument of urllib3's exceptions (they only print it)."""
    return _PoolName(*key)


def _timeouts(timeout: Any) -> tuple[float | None, float | None] | None:
    """(connect, read) as requests' adapter reads ``timeout``; None for a form it does not take."""
    if isinstance(timeout, tuple):
        return timeout if len(timeout) == 2 else None
    if timeout is None or isinstance(timeout, (int, float)):
        return timeout, timeout
    return None


class Wire:
    """Keep-alive connections per (scheme, host, port) and the direct send (module docstring)."""

    def __init__(self, maxsize: int = 10, hosts: int = 10):
        self.maxsize = max(1, maxsize)
        self.hosts = max(1, hosts)
        self._idle: OrderedDict[tuple[str, str, int], list[http.client.HTTPConnection]] = OrderedDict()
        self._lock = threading.Lock()

    def _take(self, key: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        while True:
            with self._lock:
                idle = self._idle.get(key)
                connection = idle.pop() if idle else None
            if connection is None or not dropped(connection):
                return connection
            connection.close()  # the server closed it while idle: a new one

    def _give_back(self, key: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.get(key)
            if idle is None:
                idle = self._idle[key] = []
                while len(self._idle) > self.hosts:  # urllib3's PoolManager keeps `pool_connections` pools
                    for stale in self._idle.popitem(last=False)[1]:
                        stale.close()
            else:
                self._idle.move_to_end(key)
            if len(idle) < self.maxsize:
                idle.append(connection)
                return
        connection.close()  # the pool is full (urllib3 discards it too)

    def close(self) -> None:
        with self._lock:
            pools, self._idle = list(self._idle.values()), OrderedDict()
        for idle in pools:
            for connection in idle:
                connection.close()

    def send(
        self, prepared: PreparedRequest, timeout: Any, verify: Any, cert: Any, retries: Any
    ) -> requests.Response | None:
        """The response to ``prepared``, or None when this call is not one Wire takes (use the adapter).

        ``retries`` is the adapter's ``max_retries``: only a ``Retry`` that re-sends nothing
        (``total=0``: the SDK's with ``retry_times`` 0, and requests' default) is taken - it then
        decides, as in urllib3, which error a failure becomes."""
        body = prepared.body
        method = prepared.method or ""
        headers = prepared.headers
        timeouts = _timeouts(timeout)
        if not AVAILABLE or cert or timeouts is None or not isinstance(prepared.url, str) or not _sends_once(retries):
            return None
        if body is None:
            if "Content-Length" not in headers and method not in ("GET", "HEAD"):
                return None  # urllib3 would add a header here; requests never leaves it to
        elif not isinstance(body, (bytes, str)) or "Content-Length" not in headers:
            return None  # file or generator bodies, chunked uploads: the stock path
        elif isinstance(body, str):
            body = body.encode()  # urllib3's to_bytes (UTF-8; http.client alone would write Latin-1)
        parts = urlsplit(prepared.url)
        scheme, host = parts.scheme, parts.hostname or ""
        if scheme not in _DEFAULT_PORT or not _SIMPLE_HOST.match(host) or parts.username or parts.password:
            return None
        context = tls_context(verify) if scheme == "https" else None
        if scheme == "https" and context is None:
            return None
        try:
            port = parts.port or _DEFAULT_PORT[scheme]
        except ValueError:
            return None
        call = _Call(prepared, (scheme, host, port), _encode_target(prepared.path_url), retries)
        started = preferred_clock()
        connection = self._take(call.key)
        if connection is None:
            connection = _connect(call, context, timeouts[0])
            if connection is None:
                return None  # not set up: the stock adapter connects and raises as it always did
        else:
            connection.sock.settimeout(timeouts[0])  # urllib3 writes under the connect timeout
        http_response = _exchange(connection, call, headers, body, timeouts[1])  # closes it on a failure
        try:
            response = _response(http_response, call)
        except BaseException:
            connection.close()  # the body was not read to its end: the connection is not reusable
            raise
        response.elapsed = timedelta(seconds=preferred_clock() - started)
        if http_response.will_close or connection.sock is None:
            connection.close()
        else:
            self._give_back(call.key, connection)
        if retries.is_retry(call.method, response.status_code, "retry-after" in response.headers):
            # urllib3 counts a status_forcelist answer (the SDK's 429): with total=0, MaxRetryError
            if retries.raise_on_status:
                try:
                    retries.increment(call.method, call.target, response=_Status(response), _pool=_pool(call.key))
                except u3.MaxRetryError as exhausted:
                    raise requests.exceptions.RetryError(exhausted, request=prepared) from None
        return response


def _sends_once(retries: Any) -> bool:
    """A urllib3 ``Retry`` whose first increment is its last: nothing is ever re-sent."""
    return isinstance(retries, Retry) and type(retries.total) is int and retries.total == 0


class _Call:
    """One call's particulars, for the exchange and its errors."""

    __slots__ = ("prepared", "method", "key", "target", "retries")

    def __init__(self, prepared: PreparedRequest, key: tuple[str, str, int], target: str, retries: Retry):
        self.prepared = prepared
        self.method = prepared.method or ""
        self.key = key
        self.target = target
        self.retries = retries

    def fail(self, cause: Exception, error: BaseException) -> NoReturn:
        """Raise what requests' adapter raises when urllib3 meets ``cause`` (``error``: the socket's)."""
        prepared = self.prepared
        try:
            self.retries.increment(self.method, self.target, error=cause, _pool=_pool(self.key))
        except u3.MaxRetryError as exhausted:  # requests' HTTPAdapter.send, in its order
            reason = exhausted.reason
            if isinstance(reason, u3.ConnectTimeoutError) and not isinstance(reason, u3.NewConnectionError):
                raise requests.exceptions.ConnectTimeout(exhausted, request=prepared) from error
            raise requests.exceptions.ConnectionError(exhausted, request=prepared) from error
        except u3.ReadTimeoutError as reraised:
            raise requests.exceptions.ReadTimeout(reraised, request=prepared) from error
        except u3.ProtocolError as reraised:
            raise requests.exceptions.ConnectionError(reraised, request=prepared) from error
        raise requests.exceptions.ConnectionError(cause, request=prepared) from error  # total=0: not reached


class _Status:
    """What ``Retry.increment`` reads of a response it counts."""

    def __init__(self, response: requests.Response):
        self.status = response.status_code
        self._location = response.headers.get("location") if response.is_redirect else None

    def get_redirect_location(self) -> str | None | bool:
        return self._location or False


def _connect(
    call: _Call, context: ssl.SSLContext | None, connect_timeout: float | None
) -> http.client.HTTPConnection | None:
    """A new connection, or None when it cannot be set up for a reason the stock path words itself."""
    _scheme, host, port = call.key
    connection: http.client.HTTPConnection
    if context is None:
        connection = OneWriteHTTP(host, port, timeout=connect_timeout)
    else:
        connection = OneWriteHTTPS(host, port, timeout=connect_timeout, context=context)
    try:
        http.client.HTTPConnection.connect(connection)  # TCP only (TCP_NODELAY set, as urllib3 does)
    except TimeoutError as error:
        connection.close()
        call.fail(
            u3.ConnectTimeoutError(connection, f"Connection to {host} timed out. (connect timeout={connect_timeout})"),
            error,
        )
    except OSError:
        connection.close()
        return None
    if context is not None:
        try:
            connection.sock = context.wrap_socket(connection.sock, server_hostname=host)
        except (OSError, ssl.SSLError, ssl.CertificateError):
            connection.close()
            return None
    return connection


def _exchange(
    connection: http.client.HTTPConnection, call: _Call, headers: Any, body: bytes | None, read_timeout: float | None
) -> http.client.HTTPResponse:
    """Write the request and read the status line and headers; errors as urllib3's ``urlopen`` makes them."""
    try:
        names = {name.lower() for name in headers}
        connection.putrequest(
            call.method, call.target, skip_host="host" in names, skip_accept_encoding="accept-encoding" in names
        )
        for name, value in headers.items():
            connection.putheader(name, value)
        if "user-agent" not in names:
            connection.putheader("User-Agent", _get_default_user_agent())
        try:
            connection.endheaders(body)
        except BrokenPipeError:
            pass  # urllib3 reads the answer anyway: the server may have answered and closed
        connection.sock.settimeout(read_timeout)
        return connection.getresponse()
    except (ValueError, http.client.CannotSendRequest, http.client.CannotSendHeader):
        connection.close()
        raise
    except TimeoutError as error:
        connection.close()
        call.fail(
            u3.ReadTimeoutError(_pool(call.key), call.target, f"Read timed out. (read timeout={read_timeout})"), error
        )
    except (OSError, http.client.HTTPException) as error:
        connection.close()
        call.fail(u3.ProtocolError("Connection aborted.", error), error)


def _response(http_response: http.client.HTTPResponse, call: _Call) -> requests.Response:
    """Read the body and build the ``requests.Response`` requests' adapter would (``build_response``)."""
    prepared = call.prepared
    joined: dict[str, str] = {}
    spelt: dict[str, str] = {}  # the first spelling of each name, as urllib3's HTTPHeaderDict keeps it
    for name, value in http_response.msg.items():
        lower = name.lower()
        present = joined.get(lower)
        if present is None:
            joined[lower] = value
            spelt[lower] = name
        else:
            joined[lower] = f"{present}, {value}"
    headers: CaseInsensitiveDict[str] = CaseInsensitiveDict()
    for lower, value in joined.items():
        headers[spelt[lower]] = value
    try:
        data = http_response.read()
    except TimeoutError as error:
        raise requests.exceptions.ConnectionError(
            u3.ReadTimeoutError(_pool(call.key), call.target, "Read timed out."), request=prepared
        ) from error
    except (OSError, http.client.HTTPException) as error:
        raise requests.exceptions.ChunkedEncodingError(
            u3.ProtocolError(f"Response ended prematurely: {error!r}", error), request=prepared
        ) from error
    finally:
        http_response.close()
    encoding = joined.get("content-encoding", "").lower()
    if data and encoding and (encoding in BaseHTTPResponse.CONTENT_DECODERS or "," in encoding):
        try:
            decoder = _get_decoder(encoding)
            data = decoder.decompress(data) + decoder.flush()
        except Exception as error:  # zlib.error, brotli's, zstd's: urllib3 turns them all into DecodeError
            raise requests.exceptions.ContentDecodingError(
                u3.DecodeError(f"Received response with content-encoding: {encoding}, but failed to decode it.", error),
                request=prepared,
            ) from error
    response = requests.Response()
    response.status_code = http_response.status
    response.headers = headers
    response.raw = _Raw(http_response, headers)
    response.reason = http_response.reason
    response.url = prepared.url or ""
    response.encoding = get_encoding_from_headers(headers)
    response.request = prepared
    response._content = data
    response._content_consumed = True
    if "set-cookie" in joined or "set-cookie2" in joined:
        extract_cookies_to_jar(response.cookies, prepared, response.raw)
    return response
