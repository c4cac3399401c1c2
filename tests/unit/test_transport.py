"""The SDK transport adapter (shared.cloud.transport): what it tunes, and that it changes no value.

If an SDK upgrade renames what the adapter reaches into, the first test fails and says so. The
lean session's own tests (same wire, TLS, proxies, timeouts, errors) are in test_lean_session.py.
"""

from __future__ import annotations

import logging
import warnings

import pytest
import requests
from huaweicloudsdkcore.client import Client

from shared.cloud.clients import AgencyCredentials, ClientFactory
from shared.cloud.lean_session import LeanSession
from shared.cloud.transport import fast_datetime, quiet_http_handler
from shared.config import load_settings

PROJECT = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "NO_PROXY")


def _factory(monkeypatch, endpoint: str = "http://127.0.0.1:9", **env: str) -> ClientFactory:
    for name in PROXY_VARIABLES + ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    user = {"PROJECT_ID": PROJECT, "VPC_ENDPOINT": endpoint, "CONCURRENCY": "24", "READ_TIMEOUT_S": "0.3"}
    settings = load_settings(None, user)
    return ClientFactory(AgencyCredentials("AK", "SK", None, PROJECT), settings, pool_size=24)


def test_session_stops_reading_the_environment_and_keeps_the_ca_bundle(monkeypatch):
    client = _factory(monkeypatch, REQUESTS_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt").vpc_v2()
    http = client.get_http_client()
    assert http._session.trust_env is False  # the SDK's HttpClient still keeps its session here
    assert http._verify == "/etc/ssl/certs/ca-certificates.crt"  # what requests would have read per call
    assert http.config.pool_maxsize >= 24 and http.config.retry_times == 0
    assert client._deserialize_data_time is fast_datetime


def test_without_a_proxy_the_session_is_lean_with_the_sdk_adapters_and_signing_is_in_the_caller(monkeypatch):
    from huaweicloudsdkcore.auth.credentials import Credentials

    client = _factory(monkeypatch).vpc_v2()
    session = client.get_http_client()._session
    assert type(session) is LeanSession
    adapter = session.get_adapter("http://127.0.0.1:9/")
    assert adapter._pool_maxsize >= 24 and adapter.max_retries.total == 0  # the SDK's own adapter, kept
    credentials = client.get_credentials()
    assert type(credentials).__name__ == "BasicCredentials"  # the builder checks the class name
    assert "process_auth_request" in vars(credentials)  # tuned on the instance
    assert Credentials.process_auth_request is not vars(credentials)["process_auth_request"]


def test_a_proxy_in_the_environment_keeps_requests_behaviour(monkeypatch):
    client = _factory(monkeypatch, HTTPS_PROXY="http://proxy.example:3128").vpc_v2()
    session = client.get_http_client()._session
    assert session.trust_env is True
    assert type(session) is requests.Session  # the stock session: it reads the proxy per call


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-28T21:00:00Z",
        "2026-11-28T21:00:00.123Z",
        "2026-11-28T21:00:00.123456Z",
        "2026-11-28T21:00:00",
        "2026-11-28T21:00:00.5Z",
        "2026-11-28 21:00:00",  # not the fast path: the SDK's own parser
    ],
)
def test_fast_datetime_parses_as_the_sdk_does(text):
    assert fast_datetime(text) == Client._deserialize_data_time(text)
    assert fast_datetime(text).tzinfo is not None


def test_an_offset_is_left_to_the_sdk_which_keeps_the_string():
    with pytest.warns(Warning):
        assert fast_datetime("2026-11-28T21:00:00+08:00") == "2026-11-28T21:00:00+08:00"


def test_fast_datetime_leaves_garbage_to_the_sdk():
    with pytest.warns(Warning):
        assert fast_datetime("not a time") == "not a time"


def test_quiet_handler_logs_only_when_the_logger_prints(caplog):
    class Response:
        class request:  # noqa: N801 - the shape of requests' Response.request
            method, url = "GET", "http://x/v1/p/ports"

        status_code, elapsed, content = 200, "0:00:00.001", b"{}"
        headers = {"Content-Length": "2", "X-Request-Id": "r1"}

    handler = quiet_http_handler()
    logger = logging.getLogger("HuaweiCloud-SDK-Test")
    logger.setLevel(logging.WARNING)
    handler.process_response(response=Response, logger=logger)
    assert not caplog.records
    logger.setLevel(logging.INFO)
    with caplog.at_level(logging.INFO, logger="HuaweiCloud-SDK-Test"):
        handler.process_response(response=Response, logger=logger)
    assert any("GET http://x/v1/p/ports" in r.getMessage() for r in caplog.records)


def test_fast_deserializer_builds_the_sdks_models(cloud, monkeypatch):
    """The same responses (real localcloud answers) read by a tuned client and by the SDK as built."""
    from huaweicloudsdkecs.v2 import ListServersDetailsRequest, ShowServerRequest
    from huaweicloudsdkvpc.v2 import ListPortsRequest
    from huaweicloudsdkvpc.v3 import ListSecurityGroupRulesRequest, ListSecurityGroupsRequest

    from tests.support.sdk import ecs_client, vpc_v2_client, vpc_v3_client

    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    user = {"PROJECT_ID": cloud.project_id, "VPC_ENDPOINT": cloud.url, "ECS_ENDPOINT": cloud.url}
    factory = ClientFactory(AgencyCredentials(cloud.ak, cloud.sk, None, cloud.project_id), load_settings(None, user))
    server = cloud.ids["servers"]["legacy-app-01"]
    rules = ListSecurityGroupRulesRequest()
    calls = [
        (factory.vpc_v2(), vpc_v2_client(cloud), lambda c: c.list_ports(ListPortsRequest(device_id=server))),
        (factory.vpc_v3(), vpc_v3_client(cloud), lambda c: c.list_security_groups(ListSecurityGroupsRequest())),
        (factory.vpc_v3(), vpc_v3_client(cloud), lambda c: c.list_security_group_rules(rules)),
        (factory.ecs(), ecs_client(cloud), lambda c: c.show_server(ShowServerRequest(server))),
        (factory.ecs(), ecs_client(cloud), lambda c: c.list_servers_details(ListServersDetailsRequest())),
    ]
    for tuned, stock, call in calls:
        assert "_deserialize" in vars(tuned)  # tuned on the instance
        ours, theirs = call(tuned), call(stock)
        assert type(ours) is type(theirs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # to_dict: every model, list, dict and value
            ours, theirs = ours.to_dict(), theirs.to_dict()
        ours.pop("request_id", None), theirs.pop("request_id", None)  # two calls: two request ids
        assert ours == theirs and any(ours.values())
