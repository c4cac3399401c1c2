"""Where ``sgguard submit`` hands a signed request to a real account: an APIG URL, a DMS for Kafka
topic, an SMN topic (docs/ticketing.md).

* APIG: an HTTPS POST of the signed request to the API's URL, nothing else: with the trigger's
  ``auth: NONE`` (template parameter ``APIG_OPEN_GROUP_ID``) the request signature is the only
  credential, and no Huawei AK/SK is needed. Plain ``http://`` only to a loopback address
  (localcloud).
* DMS for Kafka: the service's "Producing Messages" API (``SendKafkaMessage``) through the official
  SDK (``huaweicloudsdkkafka``, the CLI's ``submit`` extra, never deployed), so no Kafka client,
  SASL setup or broker network access is needed on the submitting side.
* SMN: ``PublishMessage`` through the official SDK, the request as the message.

DMS and SMN calls are signed with the caller's AK/SK from the environment (``HUAWEICLOUD_SDK_*``,
:mod:`sgguard_cli.cloudargs`): the submitting identity needs the right to publish there
(``smn:topic:publish``; DMS's producing right), never the functions' agency.
"""

from __future__ import annotations

import ipaddress
import json
import re
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from .cloudargs import CloudTarget

__all__ = ["PublishError", "check_apig_url", "post_url", "send_to_dms", "publish_to_smn", "to_account"]

_INSTANCE_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}\Z")  # Kafka's own topic name rule
_TOPIC_URN = re.compile(r"^urn:smn:[a-z0-9-]+:[0-9a-f]{32}:[A-Za-z0-9_-]{1,255}\Z")
_AUTH_HINT = (
    "the API wants Huawei credentials (auth IAM or APP): deploy with APIG_OPEN_GROUP_ID for an API whose "
    "authentication is the request signature alone (docs/ticketing.md)"
)


class PublishError(Exception):
    """The request could not be handed over; ``usage`` when the arguments themselves are wrong."""

    def __init__(self, message: str, *, usage: bool = False):
        super().__init__(message)
        self.usage = usage


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_apig_url(url: str) -> str:
    """``url`` when it is an absolute https URL (http only to a loopback host); else a usage error."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise PublishError(f"--url {url!r}: an absolute https:// URL of the API is needed", usage=True)
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise PublishError(
            f"--url {url!r}: https only (the request and its signature would travel in clear)", usage=True
        )
    if parts.username or parts.password:
        raise PublishError("--url: credentials in the URL are refused (the signature is the credential)", usage=True)
    return url


def post_url(url: str, body: bytes, *, timeout_s: float = 60.0) -> tuple[int, Any]:
    """POST the signed request to an APIG URL; ``(status, parsed answer)``; 401/403 explained."""
    request = urllib.request.Request(
        check_apig_url(url), data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        answer: Any = json.loads(raw) if raw else {}
    except ValueError:
        answer = raw.decode("utf-8", "replace")
    if status in (401, 403):
        raise PublishError(f"APIG answered {status}: {_AUTH_HINT}")
    return status, answer


def _client(cls: Any, target: CloudTarget, service: str) -> Any:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig

    creds = target.required_credentials()
    credentials = BasicCredentials(creds.ak, creds.sk, creds.project_id)
    if creds.security_token:
        credentials = credentials.with_security_token(creds.security_token)
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0  # the SDK would re-send a publish after a timeout: a duplicate message
    builder = cls.new_builder().with_credentials(credentials).with_http_config(config)
    return builder.with_endpoints([target.endpoint(service)]).build()


def _sdk_call(call: Any, what: str) -> Any:
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, SdkException

    try:
        return call()
    except ClientRequestException as error:
        raise PublishError(f"{what} answered {error.status_code} {error.error_code}: {error.error_msg}") from None
    except SdkException as error:
        raise PublishError(f"{what}: {error.error_msg}") from None


def send_to_dms(target: CloudTarget, instance_id: str, topic: str, message: str) -> dict:
    """``SendKafkaMessage`` of one message to ``topic`` on DMS for Kafka ``instance_id``."""
    if not _INSTANCE_ID.match(instance_id or ""):
        raise PublishError(f"--instance-id {instance_id!r}: a DMS instance id (a UUID) is needed", usage=True)
    if not _TOPIC.match(topic):
        raise PublishError(f"--topic {topic!r}: a Kafka topic name (A-Z a-z 0-9 . _ -)", usage=True)
    from huaweicloudsdkkafka.v2 import KafkaClient, SendKafkaMessageRequest, SendKafkaMessageRequestBody

    client = _client(KafkaClient, target, "dms")
    body = SendKafkaMessageRequestBody(topic=topic, body=message, property_list=[])
    request = SendKafkaMessageRequest(instance_id=instance_id, action_id="send", body=body)
    response = _sdk_call(lambda: client.send_kafka_message(request), f"DMS instance {instance_id}")
    return {"instance_id": instance_id, "topic": response.topic or topic}


def publish_to_smn(target: CloudTarget, topic_urn: str, message: str, subject: str) -> dict:
    """``PublishMessage`` of the request to an SMN topic (the change_request SMN trigger's)."""
    if not _TOPIC_URN.match(topic_urn or ""):
        raise PublishError(f"--topic-urn {topic_urn!r}: an SMN topic URN (urn:smn:REGION:PROJECT:NAME)", usage=True)
    from huaweicloudsdksmn.v2 import PublishMessageRequest, PublishMessageRequestBody, SmnClient

    client = _client(SmnClient, target, "smn")
    request = PublishMessageRequest(
        topic_urn=topic_urn, body=PublishMessageRequestBody(message=message, subject=subject)
    )
    response = _sdk_call(lambda: client.publish_message(request), f"SMN topic {topic_urn}")
    return {"topic_urn": topic_urn, "message_id": response.message_id}


def to_account(args: Any, environ: Any, via: str, request: dict, message: str, report: dict, say: Any) -> str:
    """``sgguard submit``'s hand-over to an APIG URL, DMS topic or SMN topic; the problem, if any."""
    from .cloudargs import cloud_target

    request_id = request.get("request_id")
    if via == "apig":
        status, answer = post_url(args.url, message.encode("utf-8"))
        report.update(status=status, answer=answer)
        say(f"APIG answered {status}")
        say(json.dumps(answer, indent=2, ensure_ascii=False) if not isinstance(answer, str) else answer)
        return f"APIG answered {status}" if not 200 <= status < 500 else ""
    target = cloud_target(args, environ, credentials_required=False)
    if via == "dms":
        answer = send_to_dms(target, args.instance_id, args.topic, message)
        say(f"produced {request_id} to DMS instance {answer['instance_id']} topic {answer['topic']}")
    else:
        subject = f"sgguard change request {request_id}"[:100]
        answer = publish_to_smn(target, args.topic_urn, message, subject)
        say(f"published {request_id} to SMN topic {answer['topic_urn']} (message {answer['message_id']})")
    report.update(published=answer)
    return ""
