"""Helpers of the deploy tests: the repository root and a sample deploy environment."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ROOT", "sample_env", "functions_of", "run_deploy", "create_system_tracker", "kafka_instance"]

ROOT = Path(__file__).resolve().parents[2]


def sample_env(cloud=None, **overrides) -> dict:
    region = cloud.region if cloud else "cn-north-4"
    project = cloud.project_id if cloud else "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
    env = {
        "REGION": region,
        "ALERT_TOPIC_URN": f"urn:smn:{region}:{project}:sgguard-alerts",
        "SIGNING_KEYS_JSON": '{"ticketing-1": "s3cret-signing-key-for-tests-0001"}',
        "KAFKA_INSTANCE_ID": "9f0a1b2c-3d4e-5f60-7182-93a4b5c6d7e8",
        "KAFKA_PASSWORD": "kafka-secret-0001",
        "RABBITMQ_INSTANCE_ID": "5e6f7a8b-0000-4000-8000-000000000001",
        "SMN_TOPIC_URN": f"urn:smn:{region}:{project}:sg-change-requests",
        "APIG_GROUP_ID": "c0ffee00000000000000000000000001",
        "EG_CHANNEL_ID": "a1b2c3d4-0000-4000-8000-000000000001",
    }
    if cloud is not None:
        env.update(
            HUAWEICLOUD_SDK_AK=cloud.ak,
            HUAWEICLOUD_SDK_SK=cloud.sk,
            HUAWEICLOUD_SDK_PROJECT_ID=cloud.project_id,
            ECS_ENDPOINT=cloud.url,
            VPC_ENDPOINT=cloud.url,
        )
    env.update(overrides)
    return env


def functions_of(cloud) -> dict:
    """The functions deployed into localcloud's default project, by name."""
    return cloud.state()["projects"][cloud.project_id]["functiongraph"]["functions"]


def run_deploy(argv: list[str], environ: dict, out=print) -> int:
    """``sgguard deploy ARGV`` with this environment."""
    from sgguard_cli.main import main as sgguard

    return sgguard(["deploy", *argv], environ, out=out)


def create_system_tracker(cloud) -> None:
    """CTS's management tracker, created through the official SDK (CreateTracker)."""
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcts.v3 import CtsClient
    from huaweicloudsdkcts.v3.model import CreateTrackerRequest, CreateTrackerRequestBody

    client = (
        CtsClient.new_builder()
        .with_credentials(BasicCredentials(cloud.ak, cloud.sk, cloud.project_id))
        .with_endpoints([cloud.url])
        .build()
    )
    client.create_tracker(
        CreateTrackerRequest(body=CreateTrackerRequestBody(tracker_type="system", tracker_name="system"))
    )


def kafka_instance(cloud, name: str = "sgguard-kafka", status: str = "RUNNING") -> str:
    """An existing DMS for Kafka instance (an administrator bought it: localcloud's control API); its id."""
    import json
    import urllib.request

    body = json.dumps({"name": name, "status": status, "project_id": cloud.project_id}).encode()
    request = urllib.request.Request(
        f"{cloud.url}/_localcloud/dms/instances", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["instance"]["instance_id"]
