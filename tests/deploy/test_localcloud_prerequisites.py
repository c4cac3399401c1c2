"""localcloud's IAM, DMS for Kafka, SMN and CTS calls of bootstrap, through the official SDKs: the
error bodies the SDK parses, and the rules the models enforce (no instance is invented)."""

from __future__ import annotations

import argparse

import pytest

from sgguard_cli.cloudargs import cloud_target
from sgguard_cli.deployer.prereq_api import PrerequisiteApi, PrerequisiteError
from tests.support.deploy import kafka_instance

POLICY = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["vpc:ports:get"]}]}


@pytest.fixture
def api(cloud) -> PrerequisiteApi:
    env = {
        "HUAWEICLOUD_SDK_AK": cloud.ak,
        "HUAWEICLOUD_SDK_SK": cloud.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
    }
    return PrerequisiteApi(cloud_target(argparse.Namespace(endpoint=cloud.url, region=cloud.region), env))


def test_agency_policy_and_grant(api):
    domain = api.domain_id()
    assert api.find_agency(domain, "sgguard-functions") is None
    agency = api.create_agency(domain, "sgguard-functions", "op_svc_cff", "d")
    with pytest.raises(PrerequisiteError) as twice:
        api.create_agency(domain, "sgguard-functions", "op_svc_cff", "d")
    assert (twice.value.status, twice.value.code) == (409, "IAM.0008")
    with pytest.raises(PrerequisiteError) as other_account:
        api.create_agency("0" * 32, "x", "op_svc_cff", "d")
    assert other_account.value.status == 400
    role = api.create_custom_policy("p", "d", POLICY)
    assert api.find_custom_policy("p")["id"] == role["id"] and api.find_custom_policy("q") is None
    assert api.is_granted(agency["id"], role["id"]) is False
    api.grant(agency["id"], role["id"])
    assert api.is_granted(agency["id"], role["id"]) is True
    bad = {"Version": "1.0", "Statement": []}
    with pytest.raises(PrerequisiteError) as refused:
        api.create_custom_policy("p2", "d", {**POLICY, **bad})
    assert refused.value.code == "IAM.0001"


def test_kafka_instance_is_never_invented_and_topics_are_created_once(cloud, api):
    assert api.kafka_instance("00000000-0000-4000-8000-000000000000") is None
    instance = kafka_instance(cloud)
    assert api.kafka_instance(instance)["status"] == "RUNNING"
    assert api.kafka_topics(instance) == set()
    api.create_kafka_topic(instance, "sg-change-requests", 3)
    with pytest.raises(PrerequisiteError) as twice:
        api.create_kafka_topic(instance, "sg-change-requests", 3)
    assert (twice.value.status, twice.value.code) == (400, "DMS.00400827")
    assert api.kafka_topics(instance) == {"sg-change-requests"}


def test_smn_topic_and_cts_tracker(cloud, api):
    assert api.find_topic("sgguard-results") is None
    urn = api.create_topic("sgguard-results")
    assert urn == f"urn:smn:{cloud.region}:{cloud.project_id}:sgguard-results"
    assert api.find_topic("sgguard-results")["topic_urn"] == urn
    assert api.system_tracker() is None
    api.create_system_tracker()
    assert api.system_tracker()["tracker_name"] == "system"
    with pytest.raises(PrerequisiteError) as twice:
        api.create_system_tracker()
    assert twice.value.code == "CTS.0005"
