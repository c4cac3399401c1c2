"""The wire's connections (:mod:`shared.cloud.wire`): ``http.client`` connections that write a
request's head and body in one ``send``, urllib3's TLS client context (built once per CA bundle),
and urllib3's check that an idle pooled connection is still usable.
"""

from __future__ import annotations

import http.client
import os
import select
import ssl
import threading
from typing import Any

from requests.utils import DEFAULT_CA_BUNDLE_PATH
from urllib3.util.ssl_ import create_urllib3_context

__all__ = ["OneWriteHTTP", "OneWriteHTTPS", "TLS_CONTEXTS", "dropped", "tls_context"]

TLS_CONTEXTS: dict[str, ssl.SSLContext] = {}  # per CA bundle path, process-wide (read once)
_TLS_LOCK = threading.Lock()


def tls_context(verify: Any) -> ssl.SSLContext | None:
    """urllib3's client context for ``verify`` (True: certifi's bundle; a file path), or None."""
    bundle = DEFAULT_CA_BUNDLE_PATH if verify is True else verify
    if not isinstance(bundle, str) or not os.path.isfile(bundle):
        return None  # a directory, a missing path, verify=False: the stock path (its checks, its warnings)
    context = TLS_CONTEXTS.get(bundle)
    if context is None:
        with _TLS_LOCK:
            context = TLS_CONTEXTS.get(bundle)
            if context is None:
                context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
                context.check_hostname = True
                context.load_verify_locations(cafile=bundle)
                context.set_alpn_protocols(["http/1.1"])
                TLS_CONTEXTS[bundle] = context
    return context


def dropped(connection: http.client.HTTPConnection) -> bool:
    """urllib3's ``is_connection_dropped``: readable while idle means closed (or garbage) - not reusable."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):  # as urllib3's wait_for_read: poll has no 1024-descriptor limit
            watch = select.poll()
            watch.register(sock, select.POLLIN)
            return bool(watch.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class _OneWrite(http.client.HTTPConnection):
    """Head and a bytes body in one ``send`` (one syscall, one segment where it fits): the same
    bytes as http.client's two writes (and urllib3's), in one."""

    def _send_output(self, message_body: Any = None, encode_chunked: bool = False) -> None:
        buffered = getattr(self, "_buffer", None)
        if type(message_body) is not bytes or encode_chunked or not isinstance(buffered, list):
            super()._send_output(message_body, encode_chunked=encode_chunked)  # type: ignore[misc]  # untyped in typeshed
            return
        buffered.extend((b"", b""))
        head = b"\r\n".join(buffered)
        del buffered[:]
        self.send(head + message_body)


class OneWriteHTTP(_OneWrite):
    """``http.client.HTTPConnection``, one write per request."""


class OneWriteHTTPS(_OneWrite, http.client.HTTPSConnection):
    """``http.client.HTTPSConnection``, one write per request (the wire wraps its socket itself)."""
