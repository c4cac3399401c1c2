"""A ``requests.Session`` whose ``request()`` costs a function's SDK calls less CPU, same wire.

``requests.Session.request`` spends most of its time, per call, on generality the SDK's calls
never use: a ``Request`` object, cookie jars merged (twice) even when empty, every setting merged
with the session's (``merge_setting`` over ``to_key_val_list`` and its ``Mapping`` checks), the
environment consulted, hooks merged and dispatched, the response's cookies extracted into the
session's jar, a redirect generator started. :class:`LeanSession` builds the same
``PreparedRequest`` (``prepare_method``, ``prepare_url``, ``prepare_headers``, ``prepare_body``:
requests' own code, so the URL's quoting, header validation and body framing are exactly the
stock ones) and hands it to the mounted adapter's ``send`` (the SDK's ``HTTPAdapter``: its pool,
its ``Retry``, TLS verification with the given ``verify`` / ``cert``, the timeout), and returns
the adapter's own ``Response``.

It takes this path only for a call that needs nothing more: no params, files, json, auth, hooks,
cookies or proxies given; redirects not followed (the SDK's ``allow_redirects`` default); a
session without a cookie, auth, params, proxies or hooks and not reading the environment. Any
other call goes through ``requests.Session.request`` unchanged. Cookies the server sets are still
kept (the jar is filled when a response carries ``Set-Cookie``, and a jar that holds a cookie sends
every later call through the stock path), and a redirect response still gets its ``next``.

A plain call to the SDK's own ``HTTPAdapter`` (not streamed) is then sent by
:class:`~shared.cloud.wire.Wire` (one per adapter, its pool sizes) instead of the adapter's
``send`` when the wire takes it (see :mod:`shared.cloud.wire`); ``use_wire = False`` on a session
keeps every call on the adapter.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.models import PreparedRequest
from requests.sessions import preferred_clock
from requests.structures import CaseInsensitiveDict

from shared.cloud.wire import Wire

__all__ = ["LeanSession", "adopt"]

_WIRES_LOCK = threading.Lock()


class LeanSession(requests.Session):
    """``requests.Session`` with a direct path for plain calls (see the module's docstring)."""

    use_wire = True  # False: plain calls still go to the adapter's send (the bench's "before", tests' reference)
    _wires: dict[int, tuple[HTTPAdapter, Wire]] | None = None

    def _wire_for(self, adapter: HTTPAdapter) -> Wire:
        """The :class:`~shared.cloud.wire.Wire` of ``adapter`` (its pool sizes), made on first use."""
        wires = self._wires
        if wires is None:
            wires = self._wires = {}
        held = wires.get(id(adapter))
        if held is None or held[0] is not adapter:
            with _WIRES_LOCK:
                held = wires.get(id(adapter))
                if held is None or held[0] is not adapter:
                    sizes = getattr(adapter, "_pool_maxsize", 10), getattr(adapter, "_pool_connections", 10)
                    held = wires[id(adapter)] = (adapter, Wire(*sizes))
        return held[1]

    def close(self) -> None:
        for _adapter, wire in (self._wires or {}).values():
            wire.close()
        super().close()

    def _plain(self, kwargs: dict[str, Any], allow_redirects: bool) -> bool:
        """True when neither the call nor the session asks for anything the direct path skips."""
        return (
            not allow_redirects
            and not any(kwargs.values())
            and not self.trust_env
            and not self.proxies
            and not self.params
            and self.auth is None
            and not any(self.hooks.values())
            and not self.cookies  # a jar with a cookie: the stock path sends it
        )

    def request(  # same signature as requests.Session.request, positional order kept
        self,
        method: str,
        url: Any,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        cookies: Any = None,
        files: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = True,
        proxies: Any = None,
        hooks: Any = None,
        stream: bool | None = None,
        verify: Any = None,
        cert: Any = None,
        json: Any = None,
    ) -> requests.Response:
        extras = {"params": params, "cookies": cookies, "files": files, "auth": auth, "proxies": proxies}
        extras.update(hooks=hooks, json=json)
        if not isinstance(url, str) or not self._plain(extras, allow_redirects):
            return super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                cookies=cookies,
                files=files,
                auth=auth,
                timeout=timeout,
                allow_redirects=allow_redirects,
                proxies=proxies,
                hooks=hooks,
                stream=stream,
                verify=verify,
                cert=cert,
                json=json,
            )
        prepared = PreparedRequest()
        prepared.prepare_method(method)
        prepared.prepare_url(url, None)
        merged = CaseInsensitiveDict(self.headers)  # what merge_setting(request, session) gives
        if headers:
            merged.update(headers)
        for name in [name for name, value in merged.items() if value is None]:
            del merged[name]
        prepared.prepare_headers(merged)
        prepared.prepare_body(data or {}, None, None)
        if "@" in (prepared.url or "").split("?", 1)[0]:  # user:password@ in the URL: requests' basic auth
            prepared.prepare_auth(None, url)
        # merge_setting(request, session) for scalars: the call's value unless it is None
        stream = self.stream if stream is None else stream
        verify = self.verify if verify is None else verify
        cert = self.cert if cert is None else cert
        send = {"stream": stream, "timeout": timeout, "verify": verify, "cert": cert, "proxies": {}}
        adapter = self.get_adapter(url=prepared.url or url)
        response = None
        if (
            self.use_wire and not stream and type(adapter) is HTTPAdapter
        ):  # the SDK's adapter, as it mounts it: the wire knows its job
            response = self._wire_for(adapter).send(prepared, timeout, verify, cert, adapter.max_retries)
            if response is not None:
                response.connection = adapter
        if response is None:
            started = preferred_clock()
            response = adapter.send(prepared, **send)
            response.elapsed = timedelta(seconds=preferred_clock() - started)
        if "set-cookie" in response.headers or "set-cookie2" in response.headers:
            extract_cookies_to_jar(self.cookies, prepared, response.raw)
        if response.is_redirect:  # not followed (allow_redirects False): keep Response.next, as requests does
            prepared._cookies = RequestsCookieJar()
            redirects = self.resolve_redirects(response, prepared, yield_requests=True, **send)
            response._next = next(redirects, None)  # type: ignore[assignment]  # yield_requests: PreparedRequests
        if not stream:
            response.content  # noqa: B018 - read the body now, as requests does (the connection goes back to the pool)
        return response


def adopt(session: requests.Session) -> LeanSession:
    """A :class:`LeanSession` holding ``session``'s state (its mounted adapters and their pools,
    headers, cookies, verify, cert...): ``requests.Session.__attrs__``, the state requests itself
    pickles."""
    lean = LeanSession()
    for attribute in requests.Session.__attrs__:
        setattr(lean, attribute, getattr(session, attribute))
    return lean
