"""ECS deletion, every error path (codes and the SDK exception carrying them), authentication on an
ECS route, the X-Client-Token idempotency and the control route that forces a status."""

from __future__ import annotations

import time

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkecs.v2 import (
    BatchAddServerTag,
    BatchCreateServerTagsRequest,
    BatchCreateServerTagsRequestBody,
    CreatePostPaidServersRequest,
    CreatePostPaidServersRequestBody,
    DeleteServersRequest,
    DeleteServersRequestBody,
    ListServerInterfacesRequest,
    ListServersDetailsRequest,
    ServerId,
    ShowJobRequest,
    ShowServerRequest,
    ShowServerTagsRequest,
)
from huaweicloudsdkvpc.v2 import ListPortsRequest

from tests.support.ecs_contract import (
    LEGACY_APP,
    OTHER_PROJECT,
    SG_WEB,
    SUBNET_APP,
    SUBNET_WEB,
    create,
    force_status,
    job,
    server_body,
    show,
    wait_job,
    wait_status,
)
from tests.support.sdk import credentials_for, ecs_client

MISSING = "c0000000-0000-4000-8000-0000000000ff"


def _delete(ecs, *server_ids, **flags):
    body = DeleteServersRequestBody(servers=[ServerId(id=sid) for sid in server_ids], **flags)
    return ecs.delete_servers(DeleteServersRequest(body=body))


def _error(call) -> ClientRequestException:
    with pytest.raises(ClientRequestException) as caught:
        call()
    return caught.value


# ---- deletion ------------------------------------------------------------------------------


def test_delete_removes_the_server_and_its_ports(cloud, ecs, vpc_v2):
    cloud.settings(build_delay_ms=0)
    response = create(ecs, "doomed", count=2)
    deletion = _delete(ecs, *response.server_ids, delete_publicip=True, delete_volume=True)
    current = wait_job(ecs, deletion.job_id)
    assert current.status == "SUCCESS" and current.job_type == "deleteServers"
    assert [(s.job_type, s.entities.server_id) for s in current.entities.sub_jobs] == [
        ("deleteServer", sid) for sid in response.server_ids
    ]
    for server_id in response.server_ids:
        error = _error(lambda: show(ecs, server_id))
        assert (error.status_code, error.error_code) == (404, "Ecs.0114")
        assert vpc_v2.list_ports(ListPortsRequest(device_id=server_id)).ports == []
    assert ecs.list_servers_details(ListServersDetailsRequest(name="doomed")).count == 0


@pytest.mark.slow
def test_delete_during_build_cancels_the_transition(cloud, ecs, vpc_v2):
    cloud.settings(build_delay_ms=1500)  # a timer by design: wide enough for a loaded machine's calls
    events = []
    listener = lambda **payload: events.append(payload)  # noqa: E731
    cloud.backend.subscribe("ecs.server_created", listener)
    try:
        response = create(ecs, "short-lived")
        server_id = response.server_ids[0]
        assert show(ecs, server_id).status == "BUILD"
        _delete(ecs, server_id)
        time.sleep(1.6)  # past the build's timer: the cancelled transition must not happen
        assert _error(lambda: show(ecs, server_id)).error_code == "Ecs.0114"
        assert vpc_v2.list_ports(ListPortsRequest(device_id=server_id)).ports == []
        creation = job(ecs, response.job_id)
        assert creation.status == "FAIL"
        assert events == []
    finally:
        cloud.backend.listeners["ecs.server_created"].remove(listener)


def test_delete_of_an_unknown_server_is_404_and_deletes_nothing(cloud, ecs):
    error = _error(lambda: _delete(ecs, LEGACY_APP, MISSING))
    assert (error.status_code, error.error_code) == (404, "Ecs.0114")
    assert show(ecs, LEGACY_APP).status == "ACTIVE"


def test_delete_with_no_servers_is_400(cloud, ecs):
    error = _error(lambda: _delete(ecs))
    assert (error.status_code, error.error_code) == (400, "Ecs.0005")


# ---- lookups of things that do not exist ----------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda ecs: ecs.show_server(ShowServerRequest(server_id=MISSING)),
        lambda ecs: ecs.list_server_interfaces(ListServerInterfacesRequest(server_id=MISSING)),
        lambda ecs: ecs.show_server_tags(ShowServerTagsRequest(server_id=MISSING)),
        lambda ecs: ecs.batch_create_server_tags(
            BatchCreateServerTagsRequest(
                server_id=MISSING,
                body=BatchCreateServerTagsRequestBody(action="create", tags=[BatchAddServerTag(key="a", value="b")]),
            )
        ),
    ],
    ids=["show_server", "interfaces", "show_tags", "create_tags"],
)
def test_unknown_server_is_404_ecs_0114(cloud, ecs, call):
    error = _error(lambda: call(ecs))
    assert error.status_code == 404
    assert error.error_code == "Ecs.0114"
    assert MISSING in error.error_msg
    assert error.request_id


def test_unknown_job_is_404(cloud, ecs):
    error = _error(lambda: ecs.show_job(ShowJobRequest(job_id="0" * 32)))
    assert error.status_code == 404 and error.error_code.startswith("Ecs.")


# ---- create validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"subnets": ("5b1e7c2d-0000-4000-8000-00000000dead",)}, "Ecs.0038"),
        ({"security_groups": ["a0000000-0000-4000-8000-0000000000ff"]}, "Ecs.0014"),
        ({"security_groups": ["dup-name"]}, "Ecs.0014"),
        ({"vpcid": "9d2f1c3a-0000-4000-8000-00000000dead"}, "Ecs.0014"),
        ({"flavor": "no-such-flavor"}, "Ecs.0029"),
        ({"flavor": None}, "Ecs.0005"),
        ({"subnets": ()}, "Ecs.0005"),
        ({"subnets": (SUBNET_WEB,) * 13}, "Ecs.0050"),
        ({"count": 0}, "Ecs.0005"),
        ({"count": 101}, "Ecs.0118"),
        ({"ip_address": "10.0.2.50"}, "Ecs.0039"),  # the first NIC is in subnet-web (10.0.1.0/24)
        ({"ip_address": "10.0.1.60", "count": 2}, "Ecs.0005"),
        ({"ip_address": "not-an-ip"}, "Ecs.0005"),
        ({"tags": {f"k{i}": "v" for i in range(11)}}, "Ecs.0005"),
        ({"tags": {"bad key!": "v"}}, "Ecs.0005"),
    ],
    ids=[
        "subnet",
        "sg",
        "sg-ambiguous",
        "vpc",
        "flavor",
        "no-flavor",
        "no-nics",
        "13-nics",
        "count-0",
        "count-101",
        "ip-outside",
        "ip-batch",
        "ip-garbage",
        "11-tags",
        "tag-key",
    ],
)
def test_create_validation_errors(cloud, ecs, changes, code):
    before = len(cloud.state()["projects"][cloud.project_id]["ecs"]["servers"])
    error = _error(lambda: create(ecs, "invalid", **changes))
    assert (error.status_code, error.error_code) == (400, code)
    assert error.error_msg
    assert len(cloud.state()["projects"][cloud.project_id]["ecs"]["servers"]) == before


def test_create_without_a_name_is_400(cloud, ecs):
    body = server_body("x")
    body.name = None
    error = _error(
        lambda: ecs.create_post_paid_servers(
            CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=body))
        )
    )
    assert (error.status_code, error.error_code) == (400, "Ecs.0005")


def test_create_with_a_subnet_of_another_vpc_is_400(cloud, ecs):
    cloud.seed(
        {
            "projects": [
                {
                    "id": cloud.project_id,
                    "vpcs": [
                        {
                            "id": "9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e99",
                            "name": "vpc-b",
                            "cidr": "172.16.0.0/16",
                            "subnets": [
                                {
                                    "id": "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d99",
                                    "name": "subnet-b",
                                    "cidr": "172.16.1.0/24",
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )
    error = _error(lambda: create(ecs, "cross", subnets=("5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d99",)))
    assert error.error_code == "Ecs.0064"
    error = _error(lambda: create(ecs, "cross", subnets=(SUBNET_WEB, "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d99")))
    assert error.error_code == "Ecs.0014"


def test_a_fixed_ip_in_use_fails_the_request_when_ports_are_built_at_once(cloud, ecs):
    error = _error(lambda: create(ecs, "clash", subnets=(SUBNET_APP,), ip_address="10.0.2.10"))
    assert (error.status_code, error.error_code) == (400, "Ecs.0010")
    assert ecs.list_servers_details(ListServersDetailsRequest(name="clash")).count == 0


def test_a_fixed_ip_in_use_fails_the_job_when_ports_are_delayed(cloud, ecs):
    cloud.settings(ports_delay_ms=50, build_delay_ms=500)
    response = create(ecs, "clash-later", subnets=(SUBNET_APP,), ip_address="10.0.2.10")
    current = wait_job(ecs, response.job_id)
    assert current.status == "FAIL" and current.error_code == "Ecs.0010"
    assert show(ecs, response.server_ids[0]).status == "ERROR"


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[]",
        b'{"server": "x"}',
        b'{"server": {"name": "a", "count": "2"}}',
        b'{"server": {"name": "a", "nics": "x"}}',
        b'{"dry_run": "yes", "server": {}}',
    ],
)
def test_malformed_create_bodies_are_400(cloud, raw):
    status, body = _raw_call(cloud, "POST", f"/v1/{cloud.project_id}/cloudservers", raw)
    assert status == 400
    assert body["error"]["code"] == "Ecs.0005"


def test_tag_action_errors(cloud, ecs):
    status, body = _raw_call(
        cloud,
        "POST",
        f"/v1/{cloud.project_id}/cloudservers/{LEGACY_APP}/tags/action",
        b'{"action": "CREATE", "tags": [{"key": "a", "value": "b"}]}',
    )
    assert (status, body["error"]["code"]) == (400, "Ecs.0005")
    status, body = _raw_call(
        cloud,
        "POST",
        f"/v1/{cloud.project_id}/cloudservers/{LEGACY_APP}/tags/action",
        b'{"action": "create", "tags": []}',
    )
    assert (status, body["error"]["code"]) == (400, "Ecs.0005")


def test_list_details_bad_limit_is_400(cloud, ecs):
    error = _error(lambda: ecs.list_servers_details(ListServersDetailsRequest(limit=1001)))
    assert (error.status_code, error.error_code) == (400, "Ecs.0005")


# ---- authentication and projects on ECS routes -------------------------------------------


def test_wrong_project_is_403(cloud):
    client = ecs_client(cloud, credentials_for(cloud, project_id=OTHER_PROJECT))
    error = _error(lambda: client.show_server(ShowServerRequest(server_id=LEGACY_APP)))
    assert (error.status_code, error.error_code) == (403, "APIGW.0302")


def test_bad_signature_is_401(cloud):
    client = ecs_client(cloud, credentials_for(cloud, sk="not-the-secret-key-at-all-0000000000"))
    error = _error(lambda: client.show_server(ShowServerRequest(server_id=LEGACY_APP)))
    assert (error.status_code, error.error_code) == (401, "APIGW.0301")


def test_projects_do_not_see_each_others_servers(cloud):
    client = ecs_client(
        cloud,
        credentials_for(
            cloud, ak="LOCALCLOUDAKOTHER00000", sk="localcloud-other-secret-key-000000000000", project_id=OTHER_PROJECT
        ),
    )
    assert client.list_servers_details(ListServersDetailsRequest()).count == 0
    error = _error(lambda: client.show_server(ShowServerRequest(server_id=LEGACY_APP)))
    assert error.error_code == "Ecs.0114"


# ---- idempotency and the control route ------------------------------------------------------


def test_client_token_makes_create_idempotent(cloud):
    body = (
        b'{"server": {"name": "tok", "flavorRef": "s6.small.1", "imageRef": "i", "nics": [{"subnet_id": "%s"}]}}'
        % SUBNET_WEB.encode()
    )
    first = _raw_call(cloud, "POST", f"/v1/{cloud.project_id}/cloudservers", body, {"X-Client-Token": "abc-123"})
    again = _raw_call(cloud, "POST", f"/v1/{cloud.project_id}/cloudservers", body, {"X-Client-Token": "abc-123"})
    other = _raw_call(cloud, "POST", f"/v1/{cloud.project_id}/cloudservers", body, {"X-Client-Token": "abc-124"})
    assert first == again and first[0] == 200
    assert other[1]["serverIds"] != first[1]["serverIds"]


def test_control_route_forces_a_status(cloud, ecs):
    assert force_status(cloud, LEGACY_APP, "SHUTOFF")["server"]["status"] == "SHUTOFF"
    server = show(ecs, LEGACY_APP)
    assert server.status == "SHUTOFF" and server.os_ext_st_spower_state == 4
    force_status(cloud, LEGACY_APP, "BUILD")
    assert show(ecs, LEGACY_APP).status == "BUILD"
    time.sleep(0.35)  # a forced BUILD does not time out on its own
    assert show(ecs, LEGACY_APP).status == "BUILD"
    force_status(cloud, LEGACY_APP, "ERROR")
    assert show(ecs, LEGACY_APP).status == "ERROR"


def test_control_route_completes_or_fails_a_pending_creation(cloud, ecs):
    cloud.settings(build_delay_ms=60_000)
    ok = create(ecs, "forced-ok")
    bad = create(ecs, "forced-bad", security_groups=[SG_WEB])
    force_status(cloud, ok.server_ids[0], "ACTIVE")
    force_status(cloud, bad.server_ids[0], "ERROR")
    assert job(ecs, ok.job_id).status == "SUCCESS"
    assert wait_status(ecs, ok.server_ids[0], "ACTIVE")
    assert job(ecs, bad.job_id).status == "FAIL"
    assert show(ecs, bad.server_ids[0]).status == "ERROR"


def test_control_route_errors(cloud):
    from localcloud.client import ControlError

    with pytest.raises(ControlError) as caught:
        force_status(cloud, MISSING, "ACTIVE")
    assert caught.value.status == 404
    with pytest.raises(ControlError) as caught:
        force_status(cloud, LEGACY_APP, "MELTED")
    assert caught.value.status == 400


# ---- raw signed calls (bodies the SDK cannot send) ----------------------------------------


def _raw_call(cloud, method: str, path: str, body: bytes, headers: dict | None = None):
    """Sign and send a raw request the way the SDK does; return (status, JSON body or None)."""
    import json
    import urllib.error
    import urllib.request

    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer

    host = cloud.url.split("//", 1)[1]
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    request = SdkRequest(
        method=method,
        schema="http",
        host=host,
        resource_path=path,
        query_params=[],
        header_params=dict(all_headers),
        body=body.decode(),
    )
    signed = Signer(BasicCredentials(cloud.ak, cloud.sk, cloud.project_id)).sign(request)
    out = urllib.request.Request(cloud.url + path, data=body, method=method, headers=dict(signed.header_params))
    try:
        with urllib.request.urlopen(out, timeout=5) as response:
            raw, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    return status, json.loads(raw) if raw else None
