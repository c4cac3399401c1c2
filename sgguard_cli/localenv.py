"""The local environment the demo, serve, invoke and the runtime tests share: localcloud with the
local FunctionGraph runtime, SMN topics, and template.yaml packaged and deployed into it with the
deploy command (through the FunctionGraph SDK).

    from sgguard_cli.localenv import LocalEnv
    env = LocalEnv.start(build_delay_ms=300)     # localcloud + runtime, topics created
    env.deploy()                                 # sgguard package --local-dependencies + sgguard deploy
    ...
    env.stop()

Nothing here is for a real region: the signing key below is a local, published one.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.results import OUTCOMES

from .project import project_root

# What the local result topic takes (RESULT_SINKS ``outcomes``): every outcome but "skipped".
PAGED_OUTCOMES = [outcome for outcome in OUTCOMES if outcome != "skipped"]

__all__ = [
    "LocalEnv",
    "LOCAL_SIGNING_KEYS",
    "KAFKA_INSTANCE_ID",
    "KAFKA_TOPIC",
    "ALERT_TOPIC",
    "RESULT_TOPIC",
    "RABBITMQ_INSTANCE_ID",
    "RABBITMQ_EXCHANGE",
    "REQUEST_TOPIC",
    "APIG_GROUP_ID",
    "EG_CHANNEL_ID",
    "EG_CHANGE_REQUEST_SOURCE",
    "APIG_PATH",
    "sdk_client",
    "read_results",
]

LOCAL_SIGNING_KEYS = {"ticketing-1": "local-demo-signing-key-0001"}  # local only: published in the repo
KAFKA_INSTANCE_ID = "5c0a7f3e-9d41-4b2a-8e6f-10ca1c10c0d1"
KAFKA_TOPIC = "sg-change-requests"  # the template's default KAFKA_TOPIC
ALERT_TOPIC = "sgguard-alerts"
RESULT_TOPIC = "sgguard-results"
RABBITMQ_INSTANCE_ID = "5c0a7f3e-9d41-4b2a-8e6f-10ca1c10c0d2"
RABBITMQ_EXCHANGE = "sg-change-requests"  # the template's default RABBITMQ_EXCHANGE
REQUEST_TOPIC = "sg-change-requests"  # SMN topic carrying change requests (SMN trigger)
APIG_GROUP_ID = "0c0a1c10ca1c10c0a1c10ca1c10c0a1c"
APIG_PATH = "/sgguard/change-requests"  # template.yaml's APIG trigger path
EG_CHANNEL_ID = "5c0a7f3e-9d41-4b2a-8e6f-10ca1c10c0e9"
EG_CHANGE_REQUEST_SOURCE = "sgguard.ticketing"  # the template's default


def sdk_client(cls, url: str, ak: str, sk: str, project_id: str, read_timeout: float = 10.0):
    """An official SDK client pointed at localcloud (no SDK-level retry)."""
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig

    from .cloudargs import quiet_sdk_loggers

    quiet_sdk_loggers()
    config = HttpConfig.get_default_config()
    config.timeout = (3, read_timeout)
    config.retry_times = 0
    return (
        cls.new_builder()
        .with_credentials(BasicCredentials(ak, sk, project_id))
        .with_endpoints([url])
        .with_http_config(config)
        .build()
    )


def read_results(executions: list[dict]) -> list[dict]:
    """The result events (CloudEvents) that executions logged, one JSON line each, with where they
    were logged (``_execution``: request id and attempt)."""
    results = []
    for execution in executions:
        for line in execution.get("log") or []:
            if not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("specversion") == "1.0" and isinstance(event.get("data"), dict):
                event["_execution"] = {
                    "request_id": execution["request_id"],
                    "attempt": execution["attempt"],
                    "function": execution["function"],
                    "source": execution["source"],
                }
                results.append(event)
    return results


@dataclass
class LocalEnv:
    cloud: Any
    alert_topic_urn: str
    result_topic_urn: str
    signing_keys: dict = field(default_factory=lambda: dict(LOCAL_SIGNING_KEYS))
    deploy_lines: list = field(default_factory=list)
    cleanups: list = field(default_factory=list)  # called by stop(), newest first (e.g. a local redis-server)

    # ---- start and stop -----------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        build_delay_ms: int = 300,
        warm: bool = True,
        echo: Callable[[str], None] | None = None,
        seed: dict | None = None,
    ) -> LocalEnv:
        from localcloud.runtime import start

        cloud = start(host=host, port=port, seed=seed, runtime_options={"warm": warm, "echo": echo})
        env = cls(cloud, "", "")
        env.prepare(build_delay_ms=build_delay_ms)
        return env

    def prepare(self, *, build_delay_ms: int = 300) -> None:
        """Settings and the SMN topics the deployment refers to (again after a reset)."""
        self.cloud.settings(build_delay_ms=build_delay_ms)
        self.alert_topic_urn = self.create_topic(ALERT_TOPIC)
        self.result_topic_urn = self.create_topic(RESULT_TOPIC)

    def stop(self) -> None:
        self.cloud.stop()
        while self.cleanups:
            self.cleanups.pop()()

    @property
    def runtime(self):
        return self.cloud.runtime

    def create_topic(self, name: str) -> str:
        return self.cloud._call("POST", "smn/topics", {"name": name, "project_id": self.cloud.project_id})["topic"][
            "topic_urn"
        ]

    def trigger_parameters(
        self, *, rabbitmq: bool = True, smn: bool = True, apig: bool = True, eventgrid: bool = False
    ) -> dict:
        """Template parameters that turn on the optional triggers (creating the SMN topic and the
        EventGrid channel they name). EventGrid also subscribes ecs_created to HC.ECS events: with
        the CTS trigger, every new server then runs it twice (harmless: the second is a no_change)."""
        values: dict[str, str] = {}
        if rabbitmq:
            values["RABBITMQ_INSTANCE_ID"] = RABBITMQ_INSTANCE_ID
        if smn:
            values["SMN_TOPIC_URN"] = self.create_topic(REQUEST_TOPIC)
        if apig:
            values["APIG_GROUP_ID"] = APIG_GROUP_ID
        if eventgrid:
            channels = self.cloud.state()["projects"][self.cloud.project_id]["eg"]["channels"]
            if not any(channel["id"] == EG_CHANNEL_ID for channel in channels):
                self.cloud._call(
                    "POST",
                    "eg/channels",
                    {"name": "sgguard-requests", "id": EG_CHANNEL_ID, "project_id": self.cloud.project_id},
                )
            values["EG_CHANNEL_ID"] = EG_CHANNEL_ID
        return values

    # ---- package and deploy ---------------------------------------------------------------------------
    def deploy_environment(self, **overrides: str) -> dict:
        """The deploy environment: credentials, required parameters, endpoints at localcloud."""
        cloud = self.cloud
        environ = {
            "HUAWEICLOUD_SDK_AK": cloud.ak,
            "HUAWEICLOUD_SDK_SK": cloud.sk,
            "HUAWEICLOUD_SDK_PROJECT_ID": cloud.project_id,
            "REGION": cloud.region,
            "ALERT_TOPIC_URN": self.alert_topic_urn,
            "SIGNING_KEYS_JSON": json.dumps(self.signing_keys),
            "KAFKA_INSTANCE_ID": KAFKA_INSTANCE_ID,
            "DEPENDENCY_ZIP": "build/sgguard-deps-local.zip",
            # the topic pages people: every outcome but "skipped" (nothing to do; still in the log)
            "RESULT_SINKS": json.dumps(
                [{"type": "smn", "topic_urn": self.result_topic_urn, "outcomes": PAGED_OUTCOMES}]
            ),
            # the template's default protects "default", which policy.yaml's replace_default rules
            # remove: locally the organisation baseline is the protected group instead
            "PROTECTED_GROUPS": "baseline",
        }
        for name in ("ECS_ENDPOINT", "VPC_ENDPOINT", "SMN_ENDPOINT", "EG_ENDPOINT", "FUNCTIONGRAPH_ENDPOINT"):
            environ[name] = cloud.url
        environ.update({k: v for k, v in overrides.items() if v is not None})
        return {k: v for k, v in environ.items() if v is not None}

    @staticmethod
    def package(out: Callable[[str], None] = lambda line: None) -> None:
        """``sgguard package --local-dependencies``: the function zips and the stand-in dependency."""
        from .main import main

        errors = io.StringIO()
        code = main(["package", "--local-dependencies"], out=out, err=errors)
        if code != 0:
            raise RuntimeError("sgguard package --local-dependencies failed:\n" + errors.getvalue())

    def deploy(
        self,
        *,
        build_dir: str | Path | None = None,
        template: str | Path | None = None,
        out: Callable[[str], None] | None = None,
        **overrides: str,
    ) -> list[str]:
        """``sgguard deploy --endpoint <localcloud>`` with :meth:`deploy_environment`."""
        from .main import main

        root = project_root()
        lines: list[str] = []
        argv = ["deploy", "--yes", "--endpoint", self.cloud.url, "--template", str(template or root / "template.yaml")]
        if build_dir:
            argv += ["--build-dir", str(build_dir)]

        def collect(line: str) -> None:
            lines.append(line)
            if out:
                out(line)

        if not (root / "build" / "sgguard-deps-local.zip").is_file():
            self.package()
        errors = io.StringIO()
        code = main(argv, self.deploy_environment(**overrides), out=collect, err=errors)
        self.deploy_lines = lines
        if code != 0:
            raise RuntimeError("sgguard deploy failed:\n" + "\n".join(lines) + "\n" + errors.getvalue())
        return lines

    # ---- using what runs ------------------------------------------------------------------------------
    def client(self, cls):
        return sdk_client(cls, self.cloud.url, self.cloud.ak, self.cloud.sk, self.cloud.project_id)

    def publish(self, messages: list[str], topic: str = KAFKA_TOPIC) -> dict:
        return self.runtime.broker.publish("KAFKA", topic, messages)

    def executions(self, **filters: Any) -> list[dict]:
        return self.runtime.executions(**filters)

    def results(self, function: str | None = None) -> list[dict]:
        return read_results(self.executions(function=function))

    def smn_messages(self, topic_urn: str) -> list[dict]:
        from urllib.parse import quote

        return self.cloud._call("GET", f"smn/messages?topic_urn={quote(topic_urn)}")["messages"]

    def wait_for(self, predicate: Callable[[], Any], timeout_s: float = 30.0, interval_s: float = 0.05) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                return value
            time.sleep(interval_s)
