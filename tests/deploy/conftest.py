"""Fixtures of the deploy suite: a sample deploy environment and a copy of the sources to build from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


@pytest.fixture
def source_tree(tmp_path) -> Path:
    """A copy of what the template builds from, so a test can change code without touching the repo."""
    root = tmp_path / "src"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("shared", "functions"):
        shutil.copytree(ROOT / name, root / name, ignore=ignore)
    for name in ("template.yaml", "policy.yaml", "pyproject.toml"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, root / name)
    return root
