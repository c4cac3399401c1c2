"""The bare SDK floor, run by the measured child after its batch (``bench/_child.py --floor``)."""

from __future__ import annotations

import time

__all__ = ["sdk_floor"]


def sdk_floor(script: list, context, concurrency: int) -> dict:
    """The bare SDK, as its documentation builds a client (default ``HttpConfig``, only the
    timeout, retries off and a pool as large as the concurrency), making the same calls as the
    measured batch, in this process, ``concurrency`` messages at once: CPU and wall time."""
    from concurrent.futures import ThreadPoolExecutor

    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkecs.v2 import EcsClient, ShowServerRequest
    from huaweicloudsdkvpc.v2 import (
        ListPortsRequest,
        ShowPortRequest,
        UpdatePortOption,
        UpdatePortRequest,
        UpdatePortRequestBody,
    )
    from huaweicloudsdkvpc.v2 import VpcClient as VpcV2
    from huaweicloudsdkvpc.v3 import ListSecurityGroupRulesRequest, ListSecurityGroupsRequest
    from huaweicloudsdkvpc.v3 import VpcClient as VpcV3

    epoch = time.time()  # the batch's request-log entries end here (the warm-up below is the floor's)
    user = context.getUserData
    credentials = BasicCredentials(context.getSecurityAccessKey(), context.getSecuritySecretKey(), user("PROJECT_ID"))
    if context.getSecurityToken():
        credentials = credentials.with_security_token(context.getSecurityToken())

    def build(cls, endpoint):
        config = HttpConfig.get_default_config()
        config.timeout = (3, 10)
        config.retry_times = 0
        config.pool_connections = config.pool_maxsize = max(10, concurrency)
        return (
            cls.new_builder().with_credentials(credentials).with_endpoints([endpoint]).with_http_config(config).build()
        )

    v2, v3, ecs = (
        build(VpcV2, user("VPC_ENDPOINT")),
        build(VpcV3, user("VPC_ENDPOINT")),
        build(EcsClient, user("ECS_ENDPOINT")),
    )
    eps = "all_granted_eps"

    def call(step):
        kind, *rest = step
        if kind == "list_ports":
            v2.list_ports(ListPortsRequest(device_id=rest[0], enterprise_project_id=eps))
        elif kind == "show_server":
            ecs.show_server(ShowServerRequest(rest[0]))
        elif kind == "groups":
            v3.list_security_groups(ListSecurityGroupsRequest(limit=2000, id=rest[0], enterprise_project_id=eps))
        elif kind == "rules":
            v3.list_security_group_rules(ListSecurityGroupRulesRequest(limit=2000, security_group_id=rest[0]))
        elif kind == "show_port":
            v2.show_port(ShowPortRequest(rest[0]))
        elif kind == "update_port":
            body = UpdatePortRequestBody(port=UpdatePortOption(security_groups=rest[1]))
            v2.update_port(UpdatePortRequest(rest[0], body))

    def message(calls):
        for step in calls:
            call(step)

    for calls in script[:16]:  # warm: connections open, as the handler's were
        message([c for c in calls if c[0] != "update_port"])
    cpu0, started = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(message, script))
    return {
        "cpu_s": time.process_time() - cpu0,
        "wall_s": time.perf_counter() - started,
        "messages": len(script),
        "started_at": epoch,
        "calls": sum(len(c) for c in script),
    }
