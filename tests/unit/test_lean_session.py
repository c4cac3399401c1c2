"""The lean session (shared.cloud.lean_session) against real local servers: the same bytes on the
wire as requests' own session, TLS verification still on, proxies honoured when configured,
timeouts honoured, errors the same SDK exceptions as before; and the SDK's signing in the caller.
"""

from __future__ import annotations

import shutil
import socket

import pytest
import requests
from huaweicloudsdkcore.exceptions import exceptions as sdk
from huaweicloudsdkvpc.v2 import ListPortsRequest

from shared.cloud.lean_session import adopt
from shared.cloud.retry import translate
from tests.support.http_servers import ForwardProxy, RecordingServer, self_signed
from tests.unit.test_transport import _factory

SERVER = "c0000000-0000-4000-8000-000000000001"
VOLATILE = {"x-sdk-date", "authorization"}  # the signing time, and the signature over it


def _sdk_call(session: requests.Session, method: str, url: str, **extra):
    """A call as huaweicloudsdkcore's HttpClient.do_request_sync makes it."""
    arguments = dict(timeout=(3, 10), proxies=None, verify=True, cert=None, stream=False, allow_redirects=False)
    arguments.update(extra)
    return getattr(session, method.lower())(url, **arguments)


def _stock() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # as tune_client leaves the SDK's session without a proxy
    return session


CALLS = [
    ("GET", "/v1/p/ports?device_id=c0000000&enterprise_project_id=all_granted_eps", None),
    ("PUT", "/v1/p/ports/f0000000", b'{"port": {"security_groups": ["a", "b"]}}'),
    ("POST", "/v3/p/ports/f0000000/insert-security-groups", b'{"port": {}}'),
    ("DELETE", "/v3/p/security-group-rules/%7Eodd%20id", None),
    ("PUT", "/v1/p/ports/f0000000", b""),
]


@pytest.mark.parametrize(("method", "path", "body"), CALLS)
def test_the_wire_is_the_stock_sessions(method, path, body):
    headers = {"Content-Type": "application/json", "User-Agent": "huaweicloud-usdk-python/3.0", "X-Empty": None}
    with RecordingServer() as server:
        for session in (_stock(), adopt(_stock())):
            response = _sdk_call(session, method, server.url + path, headers=dict(headers), data=body)
            assert response.status_code == 200 and response.json() == {"ports": []}
        stock, lean = server.requests
    assert lean == stock  # method, path, every header in order, body


def test_a_cookie_the_server_sets_is_kept_and_sent_back_as_requests_does():
    with RecordingServer() as server:
        sent = []
        for session in (_stock(), adopt(_stock())):
            server.set_cookie = "lb=a1; Path=/"
            _sdk_call(session, "GET", server.url + "/v1/p/ports")
            server.set_cookie = None
            _sdk_call(session, "GET", server.url + "/v1/p/ports")
            assert session.cookies.get("lb") == "a1"
            sent.append(dict(server.requests[-1]["headers"]).get("Cookie"))
    assert sent == ["lb=a1", "lb=a1"]


def test_a_redirect_is_not_followed_and_keeps_its_next_request():
    with RecordingServer() as server:
        server.redirect_to = "/v1/p/elsewhere"
        answers = [_sdk_call(session, "GET", server.url + "/v1/p/ports") for session in (_stock(), adopt(_stock()))]
        assert len(server.requests) == 2  # one each: not followed
    stock, lean = answers
    assert lean.status_code == stock.status_code == 302
    assert lean.next is not None and stock.next is not None and lean.next.url == stock.next.url


def test_a_call_the_lean_path_does_not_cover_goes_through_requests():
    with RecordingServer() as server:
        session = adopt(_stock())
        session.get(server.url + "/v1/p/ports", params={"limit": "1"}, allow_redirects=False)
        assert server.requests[-1]["path"] == "/v1/p/ports?limit=1"


def _untuned(client):
    """The client back on requests' own Session class, with the SDK's adapters (its Retry, its pool)."""
    lean = client.get_http_client()._session
    stock = _stock()
    for attribute in requests.Session.__attrs__:
        setattr(stock, attribute, getattr(lean, attribute))
    client.get_http_client()._session = stock
    return client


def _port_listing(client):
    return client.list_ports(ListPortsRequest(device_id=SERVER, enterprise_project_id="all_granted_eps"))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI to make a certificate")
def test_tls_is_verified_an_unknown_ca_refused_and_the_given_ca_accepted(monkeypatch, tmp_path):
    certificate = self_signed(tmp_path)
    with RecordingServer(tls=certificate) as server:
        client = _factory(monkeypatch, endpoint=server.url).vpc_v2()
        with pytest.raises(sdk.SslHandShakeException):  # the self-signed certificate is not trusted
            _port_listing(client)
        assert not server.requests  # refused before any request was sent
        trusting = _factory(monkeypatch, endpoint=server.url, REQUESTS_CA_BUNDLE=certificate.cert).vpc_v2()
        assert type(trusting.get_http_client()._session).__name__ == "LeanSession"
        assert _port_listing(trusting).ports == []
        (request,) = server.requests
        assert request["path"].startswith("/v1/0a1b2c3d4e5f40718293a4b5c6d7e8f9/ports?device_id=")
        assert dict(request["headers"])["Authorization"].startswith("SDK-HMAC-SHA256 Access=AK")


def test_a_proxy_in_the_environment_is_used(monkeypatch):
    with RecordingServer() as server, ForwardProxy() as proxy:
        client = _factory(monkeypatch, endpoint=server.url, HTTP_PROXY=proxy.url).vpc_v2()
        assert _port_listing(client).ports == []
    assert [r["method"] for r in proxy.requests] == ["GET"]
    assert proxy.requests[0]["url"].startswith(server.url + "/v1/")
    assert len(server.requests) == 1  # through the proxy


def test_proxies_given_to_the_lean_session_are_honoured():
    with RecordingServer() as server, ForwardProxy() as proxy:
        _sdk_call(adopt(_stock()), "GET", server.url + "/v1/p/ports", proxies={"http": proxy.url})
    assert [r["url"] for r in proxy.requests] == [server.url + "/v1/p/ports"]


def test_the_read_timeout_is_honoured_as_the_sdk_reports_it(monkeypatch):
    errors = []
    with RecordingServer() as server:
        server.hold.clear()  # the server never answers until the test ends
        for tuned in (True, False):
            client = _factory(monkeypatch, endpoint=server.url).vpc_v2()  # READ_TIMEOUT_S 0.3
            client = client if tuned else _untuned(client)
            with pytest.raises(sdk.SdkException) as caught:
                _port_listing(client)
            errors.append(caught.value)
    assert [type(e) for e in errors] == [sdk.ConnectionException] * 2  # the SDK's wording of a read timeout
    assert all("Read timed out. (read timeout=0.3)" in str(e.error_msg) for e in errors)
    assert translate("ListPorts", errors[0]).transient


def test_connection_refused_is_the_same_sdk_exception(monkeypatch):
    with socket.socket() as bound:  # bound, never listening: connecting is refused, and the port stays ours
        bound.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{bound.getsockname()[1]}"
        errors = []
        for tuned in (True, False):
            client = _factory(monkeypatch, endpoint=endpoint).vpc_v2()
            client = client if tuned else _untuned(client)
            with pytest.raises(sdk.SdkException) as caught:
                _port_listing(client)
            errors.append(caught.value)
    assert [type(e) for e in errors] == [sdk.ConnectionException] * 2
    mapped = translate("ListPorts", errors[0])
    assert mapped.code == "ConnectionException" and mapped.transient and mapped.status is None


def test_requests_are_signed_in_the_calling_thread(monkeypatch):
    with RecordingServer() as server:
        client = _factory(monkeypatch, endpoint=server.url).vpc_v2()
        _port_listing(client)
        _port_listing(client)
        assert len(server.requests) == 2
    assert not client.get_http_client().executor._threads  # the SDK's signing pool never started a thread
