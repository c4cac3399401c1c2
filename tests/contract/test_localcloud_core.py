"""Contract of the localcloud core as the SDK sees it: auth, projects, faults, request log, seeds.

Driven through the official SDK clients and the control API; the last tests check the auth
module directly with requests signed by the SDK's own signer.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import urlencode

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import (
    ClientRequestException,
    ConnectionException,
    ServerResponseException,
)
from huaweicloudsdkcore.http.http_handler import HttpHandler
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkvpc.v3 import (
    AddSecurityGroupsRequest,
    AddSecurityGroupsRequestBody,
    CreateSecurityGroupOption,
    CreateSecurityGroupRequest,
    CreateSecurityGroupRequestBody,
    InsertSecurityGroupOption,
    ListSecurityGroupsRequest,
    RemoveSecurityGroupOption,
    RemoveSecurityGroupsRequest,
    RemoveSecurityGroupsRequestBody,
    ShowPortRequest,
    VpcClient,
)

from localcloud.client import ControlError
from localcloud.core.auth import verify_signature
from localcloud.core.errors import Unauthorized
from tests.support.sdk import credentials_for, http_config, vpc_v2_client, vpc_v3_client
from tests.support.vpc_contract import (
    OTHER_AK,
    OTHER_PROJECT,
    OTHER_SK,
    PORT_A1,
    PORT_A2,
    PROJECT,
    SG,
    expect_error,
    last_entry,
    seed_ports,
    state_groups,  # noqa: F401  (ports is a fixture)
)

INSERT_PATH = "/v3/*/ports/*/insert-security-groups"


def insert(client, port_id, groups, index=None):
    body = AddSecurityGroupsRequestBody(port=InsertSecurityGroupOption(security_groups=groups, index=index))
    return client.add_security_groups(AddSecurityGroupsRequest(port_id=port_id, body=body))


def remove(client, port_id, groups):
    body = RemoveSecurityGroupsRequestBody(port=RemoveSecurityGroupOption(security_groups=groups))
    return client.remove_security_groups(RemoveSecurityGroupsRequest(port_id=port_id, body=body))


def group_names(client):
    return [g.name for g in client.list_security_groups(ListSecurityGroupsRequest()).security_groups]


# ---- authentication and projects -------------------------------------------------------------------


def test_second_project_is_isolated(cloud):
    other = vpc_v3_client(cloud, credentials_for(cloud, ak=OTHER_AK, sk=OTHER_SK, project_id=OTHER_PROJECT))
    assert group_names(other) == ["default", "other-baseline"]
    assert "web" in group_names(vpc_v3_client(cloud))


def test_wrong_project_is_403(cloud):
    intruder = vpc_v3_client(cloud, credentials_for(cloud, ak=OTHER_AK, sk=OTHER_SK, project_id=PROJECT))
    error = expect_error(lambda: group_names(intruder), 403, "APIGW.0302", "not authorized")
    assert last_entry(cloud, "GET", "/security-groups")["status"] == 403 and error.request_id


def test_bad_signature_is_401(cloud):
    forged = vpc_v3_client(cloud, credentials_for(cloud, sk="not-the-secret-key-at-all-000000000000"))
    expect_error(lambda: group_names(forged), 401, "APIGW.0301", "signature")
    unknown = vpc_v3_client(cloud, credentials_for(cloud, ak="UNKNOWNAK000000000000"))
    expect_error(lambda: group_names(unknown), 401, "APIGW.0301", "access key")


def test_security_token_accepted_and_recorded(cloud):
    temporary = cloud.temporary_credentials(PROJECT)
    client = vpc_v3_client(
        cloud,
        credentials_for(cloud, ak=temporary["ak"], sk=temporary["sk"], security_token=temporary["security_token"]),
    )
    assert "default" in group_names(client)
    entry = last_entry(cloud, "GET", "/security-groups")
    assert (entry["ak"], entry["security_token"], entry["status"]) == (temporary["ak"], True, 200)


def test_wrong_or_missing_security_token_refused(cloud):
    temporary = cloud.temporary_credentials(PROJECT)
    wrong = vpc_v3_client(
        cloud, credentials_for(cloud, ak=temporary["ak"], sk=temporary["sk"], security_token="forged-token")
    )
    expect_error(lambda: group_names(wrong), 401, "APIGW.0301", "security token")
    missing = vpc_v3_client(cloud, credentials_for(cloud, ak=temporary["ak"], sk=temporary["sk"]))
    expect_error(lambda: group_names(missing), 401, "APIGW.0301", "security token")


# ---- faults ----------------------------------------------------------------------------------------------


def test_throttle_on_put_surfaces_as_sdk_429(cloud, vpc_v3, ports):
    cloud.add_fault(kind="throttle", method="PUT", path=INSERT_PATH, count=1)
    before = state_groups(cloud, PORT_A1)
    error = expect_error(lambda: insert(vpc_v3, PORT_A1, [SG["app"]]), 429, "429", request_id=False)
    # With retry_times=0 urllib3's Retry turns the 429 into a RetryError: the APIGW body and the
    # X-Request-Id header are lost, only the urllib3 message remains.
    assert "too many 429 error responses" in error.error_msg and not error.request_id
    assert state_groups(cloud, PORT_A1) == before
    entry = last_entry(cloud, "PUT", "insert-security-groups")
    assert (entry["status"], entry["fault"], entry["error_code"]) == (429, "throttle", "APIG.0308")
    insert(vpc_v3, PORT_A1, [SG["app"]])  # count=1: the next call goes through
    assert state_groups(cloud, PORT_A1)[-1] == SG["app"]


def test_throttle_on_post_keeps_the_apigw_body(cloud, vpc_v3):
    cloud.add_fault(kind="throttle", method="POST", path="/v3/*/vpc/security-groups", count=1)
    body = CreateSecurityGroupRequestBody(security_group=CreateSecurityGroupOption(name="throttled"))
    expect_error(
        lambda: vpc_v3.create_security_group(CreateSecurityGroupRequest(body=body)),
        429,
        "APIG.0308",
        "throttling threshold",
    )


@pytest.mark.parametrize(
    "kind, status, code", [("error500", 500, "LocalCloud.Injected500"), ("error503", 503, "LocalCloud.Injected503")]
)
def test_server_errors(cloud, vpc_v3, ports, kind, status, code):
    cloud.add_fault(kind=kind, method="GET", path="/v3/*/ports/*")
    expect_error(
        lambda: vpc_v3.show_port(ShowPortRequest(port_id=PORT_A1)), status, code, exc_type=ServerResponseException
    )
    assert last_entry(cloud, "GET", PORT_A1)["fault"] == kind


def test_read_timeout_is_connection_exception(cloud, ports):
    impatient = vpc_v3_client(cloud, read_timeout=0.5)
    # a slow *answer*, not a dropped connection: only the client's own read timeout can raise here
    cloud.add_fault(kind="latency", method="GET", path="/v3/*/ports/*", latency_ms=5000, count=1)
    with pytest.raises(ConnectionException):
        impatient.show_port(ShowPortRequest(port_id=PORT_A1))
    assert impatient.show_port(ShowPortRequest(port_id=PORT_A1)).port.id == PORT_A1


def test_reset_is_connection_exception(cloud, vpc_v3, ports):
    cloud.add_fault(kind="reset", method="GET", path="/v3/*/ports/*", count=1)
    with pytest.raises(ConnectionException):
        vpc_v3.show_port(ShowPortRequest(port_id=PORT_A1))
    assert vpc_v3.show_port(ShowPortRequest(port_id=PORT_A1)).port.id == PORT_A1
    time.sleep(0.05)
    entry = [e for e in cloud.requests() if e.get("fault") == "reset"][-1]
    assert (entry["status"], entry["applied"]) == (0, False)


def test_timeout_after_the_change_is_applied(cloud, ports):
    impatient = vpc_v3_client(cloud, read_timeout=0.5)
    cloud.add_fault(kind="timeout", phase="after", method="PUT", path=INSERT_PATH, hold_ms=900, count=1)
    with pytest.raises(ConnectionException):
        insert(impatient, PORT_A1, [SG["app"]], index=0)
    assert state_groups(cloud, PORT_A1)[0] == SG["app"]  # the write happened; the client never heard
    entry = [e for e in cloud.requests() if e.get("fault") == "timeout_after"][-1]
    assert (entry["method"], entry["status"], entry["applied"]) == ("PUT", 0, True)
    expect_error(lambda: insert(impatient, PORT_A1, [SG["app"]], index=0), 400, "VPC.2500", "already")


def test_every_nth_and_count(cloud, vpc_v3, ports):
    rule = cloud.add_fault(kind="error500", method="GET", path="/v3/*/ports/*", every_nth=2)
    outcomes = []
    for _ in range(4):
        try:
            vpc_v3.show_port(ShowPortRequest(port_id=PORT_A1))
            outcomes.append("ok")
        except ServerResponseException:
            outcomes.append("500")
    assert outcomes == ["ok", "500", "ok", "500"]
    assert [(r["matched"], r["injected"]) for r in cloud.faults() if r["id"] == rule["id"]] == [(4, 2)]
    cloud.clear_faults()
    cloud.add_fault(kind="error503", method="GET", path="/v3/*/ports/*", count=2)
    outcomes = []
    for _ in range(3):
        try:
            vpc_v3.show_port(ShowPortRequest(port_id=PORT_A1))
            outcomes.append("ok")
        except ServerResponseException as error:
            outcomes.append(error.status_code)
    assert outcomes == [503, 503, "ok"]


def test_fault_matches_method_and_path_only(cloud, vpc_v3, ports):
    cloud.add_fault(kind="error500", method="PUT", path=INSERT_PATH)
    assert vpc_v3.show_port(ShowPortRequest(port_id=PORT_A1)).port.id == PORT_A1
    remove(vpc_v3, PORT_A1, [SG["web"]])
    with pytest.raises(ServerResponseException):
        insert(vpc_v3, PORT_A1, [SG["web"]])


def test_concurrent_write_changes_the_port_between_two_calls_and_fails_nothing(cloud, vpc_v3, ports):
    """Another writer, deterministically: after the matched read was answered, the port changes."""
    cloud.add_fault(
        kind="concurrent_write",
        method="GET",
        path="/v3/*/ports/*",
        phase="after",
        count=1,
        port_id=PORT_A1,
        insert=[SG["db"]],
        index=0,
    )
    first = vpc_v3.show_port(ShowPortRequest(port_id=PORT_A1)).port.security_groups
    second = vpc_v3.show_port(ShowPortRequest(port_id=PORT_A1)).port.security_groups
    assert SG["db"] not in first and second == [SG["db"], *first]  # the answer was the state before it
    [rule] = cloud.faults()
    assert (rule["injected"], rule["last_error"]) == (1, "")
    # a change the API would refuse (the group is already there) changes nothing and says why
    cloud.clear_faults()
    cloud.add_fault(kind="concurrent_write", method="GET", path="/v3/*/ports/*", port_id=PORT_A1, insert=[SG["db"]])
    assert vpc_v3.show_port(ShowPortRequest(port_id=PORT_A1)).port.security_groups == second
    assert "already associated" in cloud.faults()[0]["last_error"]
    with pytest.raises(ControlError):
        cloud.add_fault(kind="concurrent_write", port_id=PORT_A1)  # neither insert nor remove


# ---- request log and request ids ---------------------------------------------------------------------------


def test_request_log_and_x_request_id(cloud, ports):
    seen_headers = []
    handler = HttpHandler().add_response_handler(lambda response, logger: seen_headers.append(response.headers))
    client = (
        VpcClient.new_builder()
        .with_credentials(credentials_for(cloud))
        .with_endpoints([cloud.url])
        .with_http_config(http_config())
        .with_http_handler(handler)
        .build()
    )
    since = cloud.last_seq()
    response = insert(client, PORT_A2, [SG["web"]], index=0)
    entries = cloud.requests(since)
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["method"], entry["path"], entry["status"], entry["fault"], entry["service"]) == (
        "PUT",
        f"/v3/{PROJECT}/ports/{PORT_A2}/insert-security-groups",
        200,
        None,
        "vpc",
    )
    assert entry["route"] == "PUT /v3/{project_id}/ports/{port_id}/insert-security-groups"
    assert '"index": 0' in entry["body"] and entry["write"] is True
    assert seen_headers[-1]["X-Request-Id"] == entry["request_id"] == response.request_id


def test_unknown_api_is_apigw_404(cloud):
    from huaweicloudsdkvpc.v2 import ListVpcRoutesRequest  # an API localcloud does not emulate

    client = vpc_v2_client(cloud)
    error = expect_error(lambda: client.list_vpc_routes(ListVpcRoutesRequest()), 404, "APIGW.0101")
    assert "does not exist" in error.error_msg


# ---- seeds -------------------------------------------------------------------------------------------------------


def test_seed_schema_error_names_the_json_path(cloud):
    with pytest.raises(ControlError) as caught:
        cloud.seed(
            {"projects": [{"id": PROJECT, "security_groups": [{"name": "x", "rules": [{"direction": "sideways"}]}]}]}
        )
    assert caught.value.status == 400
    assert caught.value.body["error_code"] == "LocalCloud.InvalidSeed"
    assert "$.projects[0].security_groups[0].rules[0].direction" in caught.value.body["error_msg"]


@pytest.mark.parametrize(
    "project_doc, fragment",
    [
        (
            {"security_groups": [{"name": "g", "rules": [{"direction": "ingress", "remote_group": "nope"}]}]},
            "security_groups[0].rules[0].remote_group: VPC.0603",
        ),
        (
            {"security_groups": [{"name": "g", "rules": [{"direction": "ingress", "remote_group": "dup-name"}]}]},
            "remote_group: VPC.0601",
        ),
        ({"ports": [{"subnet": "subnet-nowhere"}]}, "ports[0].subnet: VPC.0202"),
        ({"ports": [{"subnet": "subnet-web", "ip_address": "10.0.9.9"}]}, "ports[0]: VPC.0705"),
        (
            {"vpcs": [{"name": "v", "cidr": "10.9.0.0/16", "subnets": [{"name": "s", "cidr": "10.8.0.0/24"}]}]},
            "subnets[0]: VPC.0203",
        ),
    ],
)
def test_seed_semantic_errors_name_the_place(cloud, project_doc, fragment):
    with pytest.raises(ControlError) as caught:
        cloud.seed({"projects": [{"id": PROJECT, **project_doc}]})
    assert caught.value.status == 400 and fragment in caught.value.body["error_msg"], caught.value.body


def test_seed_summary(cloud):
    summary = seed_ports(cloud)
    assert set(summary["ports"]) == {"a-eth0", "a-eth1", "b-eth0"}
    assert summary["security_groups"] == {"default": summary["security_groups"]["default"]}
    assert cloud.ids["security_groups"]["dup-name"] == [SG["dup-name"], "a0000000-0000-4000-8000-00000000000a"]


# ---- concurrency ---------------------------------------------------------------------------------------------


def test_sixteen_threads_on_sixteen_ports(cloud):
    devices = [
        {
            "id": f"e2000000-0000-4000-8000-0000000000{n:02d}",
            "subnet": "subnet-web",
            "device_id": f"dev-{n}",
            "device_owner": "compute:cn-north-4a",
            "security_groups": ["baseline"],
        }
        for n in range(16)
    ]
    seed_ports(cloud, devices)
    failures = []

    def work(port_id):
        client = vpc_v3_client(cloud)
        try:
            for _ in range(5):
                insert(client, port_id, [SG["web"], SG["app"]], index=0)
                remove(client, port_id, [SG["web"]])
                remove(client, port_id, [SG["app"]])
            insert(client, port_id, [SG["db"]], index=0)
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(doc["id"],)) for doc in devices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    for doc in devices:
        assert state_groups(cloud, doc["id"]) == [SG["db"], SG["baseline"]]


def test_sixteen_threads_inserting_into_one_port(cloud, ports):
    groups = [{"id": f"f0000000-0000-4000-8000-0000000000{n:02d}", "name": f"conc-{n}"} for n in range(16)]
    cloud.seed({"projects": [{"id": PROJECT, "security_groups": groups}]})
    errors = []

    def work(group_id):
        try:
            insert(vpc_v3_client(cloud), PORT_A2, [group_id], index=0)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(g["id"],)) for g in groups]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    final = state_groups(cloud, PORT_A2)
    assert final[-1] == SG["baseline"] and sorted(final[:-1]) == sorted(g["id"] for g in groups)


# ---- the auth module, with requests signed by the SDK's own signer ---------------------------------------


def signed(sk: str, body: bytes = b'{"port": {"security_groups": ["x"]}}', query=(("dry_run", "true"),)):
    request = SdkRequest(
        method="PUT",
        schema="http",
        host="127.0.0.1:8443",
        resource_path=f"/v3/{PROJECT}/ports/{PORT_A1}/insert-security-groups",
        query_params=list(query),
        header_params={"Content-Type": "application/json"},
        body=body,
    )
    return Signer(BasicCredentials("LOCALCLOUDAKDEV0000000", sk, PROJECT)).sign(request)


def verify(request, secret: str, *, body: bytes | None = None, query: str | None = None) -> str:
    return verify_signature(
        method=request.method,
        raw_path=request.resource_path,
        raw_query=urlencode(request.query_params) if query is None else query,
        headers=dict(request.header_params),
        body=request.body if body is None else body,
        secret_for=lambda ak: secret if ak == "LOCALCLOUDAKDEV0000000" else None,
    )


def test_auth_accepts_the_right_secret():
    assert verify(signed("right-secret-key-0000"), "right-secret-key-0000") == "LOCALCLOUDAKDEV0000000"


def test_auth_rejects_a_wrong_secret_and_tampering():
    with pytest.raises(Unauthorized) as caught:
        verify(signed("wrong-secret-key-0000"), "right-secret-key-0000")
    assert (caught.value.status, caught.value.code) == (401, "APIGW.0301")
    with pytest.raises(Unauthorized):
        verify(signed("right-secret-key-0000"), "right-secret-key-0000", body=b'{"port": {"security_groups": []}}')
    with pytest.raises(Unauthorized):
        verify(signed("right-secret-key-0000"), "right-secret-key-0000", query="dry_run=false")


def test_unsigned_sdk_request_never_reaches_a_handler(cloud):
    with pytest.raises(ClientRequestException) as caught:
        vpc_v3_client(cloud, credentials_for(cloud, sk="x" * 40)).show_port(ShowPortRequest(port_id=PORT_A1))
    assert caught.value.status_code == 401
    entry = last_entry(cloud, "GET", PORT_A1)
    assert entry["status"] == 401 and "project_id" not in entry


def test_one_timestamp_formatter_with_the_formats_the_apis_print():
    from localcloud.core.timefmt import iso_millis, iso_or_none, iso_seconds

    assert iso_seconds(1714564800.123456) == "2024-05-01T12:00:00Z"
    assert iso_millis(1714564800.123456) == "2024-05-01T12:00:00.123Z"
    assert iso_millis(1714564800.9999996) == "2024-05-01T12:00:01.000Z"  # one rounding, then truncation
    assert iso_seconds(1714564800.9999996) == "2024-05-01T12:00:01Z"
    assert iso_or_none(None) is None and iso_or_none(0, millis=True) == "1970-01-01T00:00:00.000Z"


def test_route_hook_serves_its_prefix_first_and_may_decline():
    """The core's route hook (how the runtime serves ``/_apig/...``), on a cloud of its own."""
    import json as _json
    import urllib.error
    import urllib.request

    from localcloud import start

    def call(cloud, method, path):
        request = urllib.request.Request(cloud.url + path, method=method, data=b"{}" if method == "POST" else None)
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    seen = []

    def hook(handler):
        seen.append(handler.path)
        if "decline" in handler.path:
            return False
        body = b'{"hooked": true}'
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return True

    with start(seed={}) as cloud:
        assert call(cloud, "OPTIONS", "/_hook/x")[0] == 501  # no hook yet: as http.server answers
        cloud.server.add_route_hook("/_hook", hook)
        assert call(cloud, "GET", "/_hook") == (200, b'{"hooked": true}')
        assert call(cloud, "POST", "/_hook/a/b?q=1") == (200, b'{"hooked": true}')
        assert call(cloud, "OPTIONS", "/_hook/a")[0] == 200
        status, body = call(cloud, "GET", "/_hookx")  # not under the prefix: never offered
        assert status == 404 and _json.loads(body)["error_code"] == "APIGW.0101"
        status, body = call(cloud, "GET", "/_hook/decline")  # declined: goes on as usual
        assert status == 404 and _json.loads(body)["error_code"] == "APIGW.0101"
        assert seen == ["/_hook", "/_hook/a/b?q=1", "/_hook/a", "/_hook/decline"]
