"""The wire (shared.cloud.wire) under the lean session, against real local servers: the same
request bytes and the same ``requests.Response`` as requests' own session over urllib3, the same
exception types (and messages) where the stock path fails, keep-alive reuse, a connection the
server closed replaced before a request is written, nothing re-sent, TLS verified, 16 threads.
"""

from __future__ import annotations

import shutil
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

from shared.cloud.lean_session import LeanSession, adopt
from tests.support.http_servers import RecordingServer, self_signed
from tests.support.scripted_server import ScriptedServer

HEADERS = {"Content-Type": "application/json", "User-Agent": "huaweicloud-usdk-python/3.0", "X-Sdk-Date": "x"}


def _call(session: requests.Session, method: str, url: str, **extra):
    """A call as huaweicloudsdkcore's HttpClient.do_request_sync makes it."""
    arguments = dict(timeout=(3, 10), proxies=None, verify=True, cert=None, stream=False, allow_redirects=False)
    arguments.update(extra)
    return session.request(method, url, headers=dict(HEADERS), **arguments)


def _stock(retries: str = "sdk") -> requests.Session:
    """requests' Session with the SDK's adapter (``HttpClient._init_session``, retry_times 0), or
    with requests' default one (``Retry(0, read=False)``: its read errors are re-raised)."""
    session = requests.Session()
    session.trust_env = False  # as tune_client leaves the SDK's session without a proxy
    if retries == "sdk":
        adapter = HTTPAdapter(pool_connections=16, pool_maxsize=16, max_retries=Retry(total=0, status_forcelist=[429]))
        session.mount("https://", adapter)
        session.mount("http://", adapter)
    return session


def _lean(wire: bool = True, retries: str = "sdk") -> LeanSession:
    session = adopt(_stock(retries))
    session.use_wire = wire
    return session


def test_the_urllib3_helpers_the_wire_relies_on_are_there():
    from shared.cloud import wire

    assert wire.AVAILABLE  # else every call takes the stock path (slower): a urllib3 upgrade renamed one


def _pooled(session: LeanSession) -> int:
    """Idle connections the session's wire holds (0: the call went through the adapter)."""
    return sum(len(idle) for _adapter, wire in (session._wires or {}).values() for idle in wire._idle.values())


BODIES = [
    ("GET", "/v1/p/ports?device_id=c0000000&enterprise_project_id=all_granted_eps&x=%7e%20y", None),
    ("PUT", "/v1/p/ports/f0000000", '{"port": {"name": "caf\u00e9 \u2603", "security_groups": ["a"]}}'),
    ("PUT", "/v1/p/ports/f0000000", b'{"port": {"security_groups": ["a", "b"]}}'),
    ("POST", "/v3/p/ports/f0000000/insert-security-groups", '{"port": {}}'),
    ("DELETE", "/v3/p/security-group-rules/%7Eodd%20id", None),
    ("PUT", "/v1/p/ports/f0000000", ""),
]


@pytest.mark.parametrize(("method", "path", "body"), BODIES)
def test_the_request_bytes_are_urllib3s(method, path, body):
    with RecordingServer() as server:
        sessions = [_stock(), _lean(wire=False), _lean()]
        for session in sessions:
            _call(session, method, server.url + path, data=body)
        stock, lean, wired = server.requests
    assert _pooled(sessions[2]) == 1  # the call went over the wire
    assert wired == stock == lean  # method, target, every header in order, body


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/ok"), ("GET", "/chunked"), ("GET", "/gzip"), ("GET", "/dup"), ("HEAD", "/ok")]
    + [("GET", "/empty/204"), ("GET", "/empty/304"), ("PUT", "/close"), ("GET", "/close-idle")],
)
def test_the_response_is_the_one_requests_builds(method, path):
    with ScriptedServer() as server:
        stock = _call(_stock(), method, server.url + path)
        wired_session = _lean()
        wired = _call(wired_session, method, server.url + path)
    assert (wired.status_code, wired.reason, wired.content) == (stock.status_code, stock.reason, stock.content)
    # names as first spelt, duplicates joined; the Date header is the server's clock (a second may pass between)
    assert list(wired.headers) == list(stock.headers)
    assert [(k, v) for k, v in wired.headers.items() if k != "Date"] == [
        (k, v) for k, v in stock.headers.items() if k != "Date"
    ]
    assert (wired.encoding, wired.url, wired.text) == (stock.encoding, stock.url, stock.text)
    assert wired.request is not None and wired.request.method == method
    assert wired.elapsed.total_seconds() >= 0 and wired.ok == stock.ok
    assert dict(wired.cookies) == dict(stock.cookies)
    # a connection the server says it closes is not pooled (/close-idle does not say: found when next taken)
    assert _pooled(wired_session) == (0 if path == "/close" else 1)


def test_a_cookie_the_server_sets_is_kept_by_the_session():
    with ScriptedServer() as server:
        session = _lean()
        _call(session, "GET", server.url + "/dup")
        _call(session, "GET", server.url + "/ok")  # the jar holds a cookie: the stock path sends it
        assert session.cookies.get("lb") == "a1"
        assert dict(server.requests[-1][3]).get("Cookie") == "lb=a1; s=2"


def test_keep_alive_one_connection_for_sequential_calls():
    with ScriptedServer() as server:
        session = _lean()
        for _ in range(5):
            assert _call(session, "GET", server.url + "/ok").status_code == 200
        assert server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_before_writing():
    with ScriptedServer() as server:
        session = _lean()
        _call(session, "GET", server.url + "/close-idle")
        assert server.closed.wait(60)  # the server has closed it (as a keep-alive timeout would)
        assert _call(session, "PUT", server.url + "/ok", data='{"a": 1}').status_code == 200
        assert [(n, m) for n, m, *_ in server.requests] == [(1, "GET"), (2, "PUT")]  # written once, on a new one


def test_a_pooled_connection_found_closed_is_dropped_for_a_new_one_without_a_failed_call():
    with ScriptedServer() as server:
        session = _lean()
        _call(session, "GET", server.url + "/ok")
        ((_adapter, wire),) = session._wires.values()  # type: ignore[union-attr]
        ((connection,),) = wire._idle.values()
        connection.sock.shutdown(socket.SHUT_RDWR)  # dead under the pool's feet: readable (EOF) while idle
        assert _call(session, "POST", server.url + "/ok", data="{}").status_code == 200
        assert server.connections == 2 and len(server.requests) == 2


def _both_fail(retries: str, method: str, url: str, **extra) -> list[requests.exceptions.RequestException]:
    """What requests' own session raises for the call, then what the wire raises."""
    raised = []
    for session in (_stock(retries), _lean(retries=retries)):
        with pytest.raises(requests.exceptions.RequestException) as caught:
            _call(session, method, url, **extra)
        raised.append(caught.value)
    return raised


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize("retries", ["sdk", "requests"])
def test_no_answer_is_the_stock_error_and_nothing_is_sent_twice(method, retries):
    with ScriptedServer() as server:
        body = "{}" if method in ("PUT", "POST") else None
        stock, wired = _both_fail(retries, method, server.url + "/drop", data=body)
        assert [m for _n, m, *_ in server.requests] == [method, method]  # one each: never re-sent
    assert type(wired) is type(stock) is requests.exceptions.ConnectionError
    # the SDK's Retry counts a GET / PUT / DELETE (MaxRetryError); a POST's error, or any with read=False, is re-raised
    counted = retries == "sdk" and method != "POST"
    assert type(wired.args[0]) is type(stock.args[0]) is (MaxRetryError if counted else ProtocolError)
    assert str(wired) == str(stock)


def test_a_body_cut_short_is_the_stock_exception_and_its_connection_is_not_kept():
    with ScriptedServer() as server:
        stock, wired = _both_fail("sdk", "GET", server.url + "/short")
        session = _lean()
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            _call(session, "GET", server.url + "/short")
        assert _pooled(session) == 0
    assert type(wired) is type(stock) is requests.exceptions.ChunkedEncodingError


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
@pytest.mark.parametrize("retries", ["sdk", "requests"])
def test_a_read_timeout_is_the_stock_exception(method, retries):
    with ScriptedServer() as server:
        stock, wired = _both_fail(retries, method, server.url + "/hang", timeout=(3, 0.2))
        assert len(server.requests) == 2
    # the SDK's Retry(total=0) counts a GET / PUT (MaxRetryError -> ConnectionError); a POST's is re-raised
    counted = retries == "sdk" and method != "POST"
    expected = requests.exceptions.ConnectionError if counted else requests.exceptions.ReadTimeout
    assert type(wired) is type(stock) is expected
    assert str(wired) == str(stock) and "Read timed out. (read timeout=0.2)" in str(wired)


def test_a_connect_timeout_is_the_stock_exception():
    with socket.socket() as listener:  # a full accept queue: the kernel drops the next SYNs
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        url = "http://127.0.0.1:%d/ok" % listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(listener.getsockname())
                fillers.append(filler)
            raised = []
            for session in (_stock(), _lean()):
                with pytest.raises(requests.exceptions.RequestException) as caught:
                    _call(session, "GET", url, timeout=(0.2, 1))
                raised.append(caught.value)
        finally:
            for filler in fillers:
                filler.close()
    stock, wired = raised
    if type(stock) is not requests.exceptions.ConnectTimeout:
        pytest.skip(f"this kernel answers a full backlog otherwise: {stock!r}")
    assert type(wired) is requests.exceptions.ConnectTimeout
    assert "timed out. (connect timeout=0.2)" in str(wired) and "Max retries exceeded with url: /ok" in str(wired)


@pytest.mark.parametrize(
    ("retries", "path"), [("sdk", "/status/429"), ("requests", "/status/429"), ("sdk", "/status/500")]
)
def test_a_status_the_sdks_retry_counts_is_its_retry_error(retries, path):
    outcomes = []
    with ScriptedServer() as server:
        for session in (_stock(retries), _lean(retries=retries)):
            try:
                outcomes.append(_call(session, "GET", server.url + path).status_code)
            except requests.exceptions.RetryError as error:  # the SDK's: "too many 429 error responses"
                outcomes.append(str(error))
        assert len(server.requests) == 2  # once each
    stock, wired = outcomes
    assert wired == stock
    assert ("too many 429 error responses" in str(stock)) == (retries == "sdk" and path.endswith("429"))


def test_a_refused_connection_is_the_stock_exception():
    with socket.socket() as bound:  # bound, never listening
        bound.bind(("127.0.0.1", 0))
        url = "http://127.0.0.1:%d/ok" % bound.getsockname()[1]
        raised = []
        for session in (_stock(), _lean()):
            with pytest.raises(requests.exceptions.ConnectionError) as caught:
                _call(session, "GET", url)
            raised.append(caught.value)
    stock, wired = raised
    assert type(wired.args[0].reason) is type(stock.args[0].reason)  # NewConnectionError: the stock path raised it


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI to make a certificate")
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # verify=False: the stock path warns
def test_tls_verified_with_the_ca_the_sdk_gives_and_the_host_name_checked(tmp_path):
    certificate = self_signed(tmp_path)  # for IP 127.0.0.1 only
    with RecordingServer(tls=certificate) as server:
        session = _lean()
        with pytest.raises(requests.exceptions.SSLError):  # certifi's bundle does not know it
            _call(session, "GET", server.url + "/v1/p/ports")
        assert _call(session, "GET", server.url + "/v1/p/ports", verify=certificate.cert).status_code == 200
        assert _pooled(session) == 1  # over the wire, TLS
        by_name = server.url.replace("127.0.0.1", "localhost")
        with pytest.raises(requests.exceptions.SSLError, match="match|mismatch"):  # the name is not the certificate's
            _call(_lean(), "GET", by_name + "/v1/p/ports", verify=certificate.cert)
        assert _call(session, "GET", server.url + "/v1/p/ports", verify=False).status_code == 200  # stock path
        assert len(server.requests) == 2


def test_sixteen_threads_each_get_their_own_answer_on_at_most_sixteen_connections():
    with ScriptedServer() as server:
        session = _lean()
        barrier = threading.Barrier(16)

        def one(n: int) -> bool:
            if n < 16:
                barrier.wait(60)  # all 16 at once at the start: 16 connections
            path = f"/ok?n={n}"
            return _call(session, "GET", server.url + path).json()["path"] == path

        with ThreadPoolExecutor(max_workers=16) as pool:
            assert all(pool.map(one, range(800)))
        assert 16 <= server.connections <= 32 and _pooled(session) <= 16


@pytest.mark.parametrize("status", [429, 500, 404])
def test_an_error_status_is_the_same_sdk_exception_through_the_sdk(monkeypatch, status):
    from huaweicloudsdkcore.exceptions import exceptions as sdk
    from huaweicloudsdkvpc.v2 import ListPortsRequest

    from tests.unit.test_lean_session import _untuned
    from tests.unit.test_transport import _factory

    raised, sessions = [], []
    with ScriptedServer() as server:
        server.status = status
        for tuned in (True, False):
            client = _factory(monkeypatch, endpoint=server.url).vpc_v2()
            client = client if tuned else _untuned(client)
            sessions.append(client.get_http_client()._session)
            with pytest.raises(sdk.SdkException) as caught:
                client.list_ports(ListPortsRequest(device_id="c0", enterprise_project_id="all_granted_eps"))
            raised.append(caught.value)
    assert _pooled(sessions[0]) == 1  # the tuned client's call went over the wire
    wired, stock = raised
    assert type(wired) is type(stock)
    assert vars(wired) == vars(stock)  # status, request id, error code and message


def test_the_sdks_own_calls_reach_the_server_as_before(monkeypatch):
    from huaweicloudsdkvpc.v2 import ListPortsRequest, UpdatePortOption, UpdatePortRequest, UpdatePortRequestBody

    from tests.unit.test_lean_session import VOLATILE, _untuned
    from tests.unit.test_transport import _factory

    def calls(client):
        client.list_ports(ListPortsRequest(device_id="c0 ~x", enterprise_project_id="all_granted_eps"))
        body = UpdatePortRequestBody(port=UpdatePortOption(name="caf\u00e9", security_groups=["a", "b"]))
        client.update_port(UpdatePortRequest("f0000000", body))

    with RecordingServer() as server:
        tuned = _factory(monkeypatch, endpoint=server.url).vpc_v2()
        calls(tuned)
        calls(_untuned(_factory(monkeypatch, endpoint=server.url).vpc_v2()))
        seen = [
            {**r, "headers": [(k, v) for k, v in r["headers"] if k.lower() not in VOLATILE]} for r in server.requests
        ]
    assert _pooled(tuned.get_http_client()._session) == 1  # the tuned client's calls went over the wire
    assert seen[:2] == seen[2:]  # the SDK's signed requests: everything but the signing time and signature
