"""Throttling handled as a flow: localcloud's rate limit per route, and a batch that slows down to
it instead of burning its attempts (official SDK over HTTP, real handler)."""

from __future__ import annotations

import json

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkvpc.v2 import ListPortsRequest, ListSecurityGroupsRequest, VpcClient

from bench.workload import SIGNING_KEYS, build_seed, generate_changes, kafka, sign
from tests.functional.test_change_request import results_of

pytestmark = pytest.mark.slow  # throttling faults and back-off: seconds each

BENCH_KEYS = json.dumps(SIGNING_KEYS)


def _vpc(cloud) -> VpcClient:
    credentials = BasicCredentials(cloud.ak, cloud.sk, cloud.project_id)
    return VpcClient.new_builder().with_credentials(credentials).with_endpoints([cloud.url]).build()


def test_rate_limit_answers_429_apig_0308_per_route(cloud):
    cloud.add_fault(kind="rate_limit", per_s=0.5, burst=2, method="GET", path="/v1/*")
    vpc = _vpc(cloud)
    vpc.list_ports(ListPortsRequest())
    vpc.list_ports(ListPortsRequest())
    with pytest.raises(ClientRequestException) as raised:
        vpc.list_ports(ListPortsRequest())
    assert raised.value.status_code == 429
    vpc.list_security_groups(ListSecurityGroupsRequest())  # another route: its own bucket
    throttled = [r for r in cloud.requests() if r.get("status") == 429]
    assert [(r["route"], r["error_code"], r["fault"]) for r in throttled] == [
        ("GET /v1/{project_id}/ports", "APIG.0308", "rate_limit")
    ]


def test_rate_limit_needs_a_rate(cloud):
    with pytest.raises(Exception, match="per_s"):
        cloud.add_fault(kind="rate_limit", path="*")


def test_a_throttled_batch_slows_down_and_completes_without_spending_attempts(cloud, change):
    document, fleet = build_seed(12, seed=5)
    cloud.reset(empty=True)
    cloud.seed(document)
    messages = generate_changes(fleet, 30, seed=3, mix={"add": 3, "replace": 1, "dry-run": 1})
    cloud.add_fault(kind="rate_limit", per_s=25, burst=1, path="*")
    seq = cloud.last_seq()
    response = change(
        kafka([sign(m.request) for m in messages]), MAX_ATTEMPTS="1", CONCURRENCY="8", REQUEST_SIGNING_KEYS=BENCH_KEYS
    )
    outcomes = [r["data"]["outcome"] for r in results_of(response)]
    assert outcomes == [m.outcome for m in messages]  # none failed: 429s were not attempts
    throttled = [r for r in cloud.requests(seq) if r.get("status") == 429]
    assert throttled, "the rate limit should have been reached at concurrency 8"
    assert all(r["method"] == "GET" or r["fault"] == "rate_limit" for r in throttled)
