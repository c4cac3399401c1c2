"""The calls ``sgguard bootstrap`` makes for the prerequisites, through the official SDKs (the CLI's
``deploy`` extra: huaweicloudsdkiam, -smn, -cts, -kafka; never in the deployed package).

- IAM (global service, ``GlobalCredentials``: the account id is looked up by the SDK itself with
  KeystoneListAuthDomains at the IAM endpoint): ListAgencies, CreateAgency,
  ListCustomPolicies, CreateCloudServiceCustomPolicy, UpdateCloudServiceCustomPolicy,
  CheckProjectPermissionForAgency, AssociateAgencyWithProjectPermission;
- SMN: ListTopics (by exact name), CreateTopic; CTS: ListTrackers, CreateTracker;
- DMS for Kafka: ShowInstance, ListInstanceTopics, CreateInstanceTopic.

Each answer is read as sent (``to_json_object``); reads and writes are counted so a plan can show
it wrote nothing. Errors become :class:`PrerequisiteError` with status, code and message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PrerequisiteApi", "PrerequisiteError", "sdk_client"]

_PAGE = 50
_CLIENTS = {
    "smn": ("huaweicloudsdksmn.v2", "SmnClient"),
    "cts": ("huaweicloudsdkcts.v3", "CtsClient"),
    "kafka": ("huaweicloudsdkkafka.v2", "KafkaClient"),
    "eg": ("huaweicloudsdkeg.v1", "EgClient"),
}


class PrerequisiteError(Exception):
    def __init__(self, message: str, status: int | None = None, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


def sdk_client(client_class: Any, credentials: Any, endpoint: str) -> Any:
    """A client of ``client_class`` at ``endpoint``: short timeouts, no SDK retry (it re-sends writes)."""
    from huaweicloudsdkcore.http.http_config import HttpConfig

    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0
    return (
        client_class.new_builder()
        .with_credentials(credentials)
        .with_endpoints([endpoint])
        .with_http_config(config)
        .build()
    )


def _raw(response: Any) -> dict:
    raw = response.to_json_object() if hasattr(response, "to_json_object") else None
    return raw if isinstance(raw, dict) else {}


@dataclass
class PrerequisiteApi:
    target: Any  # sgguard_cli.cloudargs.CloudTarget
    reads: int = 0
    writes: list[str] = field(default_factory=list)
    _clients: dict = field(default_factory=dict, repr=False)

    # ---- plumbing -------------------------------------------------------------------------
    def _client(self, service: str) -> Any:
        if service in self._clients:
            return self._clients[service]
        from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials

        c = self.target.required_credentials()
        if service == "iam":
            from huaweicloudsdkiam.v3 import IamClient

            credentials: Any = GlobalCredentials(c.ak, c.sk).with_iam_endpoint(self.target.endpoint("iam"))
            client_class: Any = IamClient
        else:
            import importlib

            credentials = BasicCredentials(c.ak, c.sk, c.project_id)
            module, name = _CLIENTS[service]
            client_class = getattr(importlib.import_module(module), name)
        if c.security_token:
            credentials = credentials.with_security_token(c.security_token)
        self._clients[service] = sdk_client(client_class, credentials, self.target.endpoint(service))
        return self._clients[service]

    def _call(self, operation: str, call: Callable[[Any], Any], *, write: bool = False) -> dict:
        """``call(client)`` with the client of the operation's service (``iam.create_agency``: IAM's)."""
        from huaweicloudsdkcore.exceptions.exceptions import SdkException, ServiceResponseException

        if write:
            self.writes.append(operation)
        else:
            self.reads += 1
        try:
            return _raw(call(self._client(operation.split(".", 1)[0])))
        except ServiceResponseException as error:
            raise PrerequisiteError(
                f"{operation}: HTTP {error.status_code} {error.error_code}: {error.error_msg}",
                error.status_code,
                str(error.error_code or ""),
            ) from None
        except SdkException as error:
            raise PrerequisiteError(f"{operation}: {error}") from None

    @property
    def project_id(self) -> str:
        return str(self.target.required_credentials().project_id)

    # ---- IAM ------------------------------------------------------------------------------
    def domain_id(self) -> str:
        """The account id (the SDK looks it up once, with KeystoneListAuthDomains)."""
        from huaweicloudsdkiam.v3.model import KeystoneListAuthDomainsRequest

        answer = self._call(
            "iam.keystone_list_auth_domains",
            lambda client: client.keystone_list_auth_domains(KeystoneListAuthDomainsRequest()),
        )
        domains = answer.get("domains") or []
        if not domains:
            raise PrerequisiteError("iam.keystone_list_auth_domains: no account id in the answer")
        return str(domains[0]["id"])

    def find_agency(self, domain_id: str, name: str) -> dict | None:
        from huaweicloudsdkiam.v3.model import ListAgenciesRequest

        request = ListAgenciesRequest(domain_id=domain_id, name=name)
        agencies = self._call("iam.list_agencies", lambda client: client.list_agencies(request)).get("agencies")
        return next((a for a in agencies or [] if a.get("name") == name), None)

    def create_agency(self, domain_id: str, name: str, service: str, description: str) -> dict:
        from huaweicloudsdkiam.v3.model import CreateAgencyOption, CreateAgencyRequest, CreateAgencyRequestBody

        option = CreateAgencyOption(
            name=name, domain_id=domain_id, trust_domain_name=service, description=description, duration="FOREVER"
        )
        request = CreateAgencyRequest(body=CreateAgencyRequestBody(agency=option))
        answer = self._call("iam.create_agency", lambda client: client.create_agency(request), write=True)
        return dict(answer.get("agency") or {})

    def find_custom_policy(self, display_name: str) -> dict | None:
        from huaweicloudsdkiam.v3.model import ListCustomPoliciesRequest

        page = 1
        while True:
            request = ListCustomPoliciesRequest(page=page, per_page=_PAGE)
            answer = self._call("iam.list_custom_policies", lambda client: client.list_custom_policies(request))
            roles = answer.get("roles") or []
            found = next((r for r in roles if r.get("display_name") == display_name), None)
            if found is not None or len(roles) < _PAGE:
                return found
            page += 1

    def _role(self, display_name: str, description: str, policy: dict) -> Any:
        from huaweicloudsdkiam.v3.model import ServicePolicy, ServicePolicyRoleOption, ServiceStatement

        statements = [
            ServiceStatement(action=list(s["Action"]), effect=s["Effect"], resource=s.get("Resource"))
            for s in policy["Statement"]
        ]
        return ServicePolicyRoleOption(
            display_name=display_name,
            type="XA",  # project-level: granted on the deployment's project only
            description=description,
            policy=ServicePolicy(version=policy["Version"], statement=statements),
        )

    def create_custom_policy(self, display_name: str, description: str, policy: dict) -> dict:
        from huaweicloudsdkiam.v3.model import (
            CreateCloudServiceCustomPolicyRequest,
            CreateCloudServiceCustomPolicyRequestBody,
        )

        body = CreateCloudServiceCustomPolicyRequestBody(role=self._role(display_name, description, policy))
        request = CreateCloudServiceCustomPolicyRequest(body=body)
        answer = self._call(
            "iam.create_cloud_service_custom_policy",
            lambda client: client.create_cloud_service_custom_policy(request),
            write=True,
        )
        return dict(answer.get("role") or {})

    def update_custom_policy(self, role_id: str, display_name: str, description: str, policy: dict) -> None:
        from huaweicloudsdkiam.v3.model import (
            UpdateCloudServiceCustomPolicyRequest,
            UpdateCloudServiceCustomPolicyRequestBody,
        )

        body = UpdateCloudServiceCustomPolicyRequestBody(role=self._role(display_name, description, policy))
        request = UpdateCloudServiceCustomPolicyRequest(role_id=role_id, body=body)
        self._call(
            "iam.update_cloud_service_custom_policy",
            lambda client: client.update_cloud_service_custom_policy(request),
            write=True,
        )

    def is_granted(self, agency_id: str, role_id: str) -> bool:
        from huaweicloudsdkiam.v3.model import CheckProjectPermissionForAgencyRequest

        request = CheckProjectPermissionForAgencyRequest(
            project_id=self.project_id, agency_id=agency_id, role_id=role_id
        )
        try:
            self._call(
                "iam.check_project_permission_for_agency",
                lambda client: client.check_project_permission_for_agency(request),
            )
        except PrerequisiteError as error:
            if error.status == 404:
                return False
            raise
        return True

    def grant(self, agency_id: str, role_id: str) -> None:
        from huaweicloudsdkiam.v3.model import AssociateAgencyWithProjectPermissionRequest

        request = AssociateAgencyWithProjectPermissionRequest(
            project_id=self.project_id, agency_id=agency_id, role_id=role_id
        )
        self._call(
            "iam.associate_agency_with_project_permission",
            lambda client: client.associate_agency_with_project_permission(request),
            write=True,
        )

    # ---- SMN ------------------------------------------------------------------------------
    def find_topic(self, name: str) -> dict | None:
        from huaweicloudsdksmn.v2.model import ListTopicsRequest

        request = ListTopicsRequest(name=name, limit=100)
        topics = self._call("smn.list_topics", lambda client: client.list_topics(request)).get("topics")
        return next((t for t in topics or [] if t.get("name") == name), None)

    def create_topic(self, name: str) -> str:
        from huaweicloudsdksmn.v2.model import CreateTopicRequest, CreateTopicRequestBody

        request = CreateTopicRequest(body=CreateTopicRequestBody(name=name, display_name=name))
        answer = self._call("smn.create_topic", lambda client: client.create_topic(request), write=True)
        return str(answer.get("topic_urn") or "")

    # ---- EventGrid ------------------------------------------------------------------------
    def find_channel(self, name: str) -> dict | None:
        from huaweicloudsdkeg.v1.model import ListChannelsRequest

        request = ListChannelsRequest(name=name, provider_type="CUSTOM")
        items = self._call("eg.list_channels", lambda client: client.list_channels(request)).get("items")
        return next((c for c in items or [] if c.get("name") == name), None)

    def create_channel(self, name: str, description: str, cross_account: bool, policy: dict) -> str:
        from huaweicloudsdkeg.v1.model import ChannelCreateReq, CreateChannelRequest

        body = ChannelCreateReq(name=name, description=description, cross_account=cross_account, policy=policy)
        request = CreateChannelRequest(body=body)
        return str(self._call("eg.create_channel", lambda client: client.create_channel(request), write=True)["id"])

    def update_channel(self, channel_id: str, description: str, cross_account: bool, policy: dict) -> None:
        from huaweicloudsdkeg.v1.model import ChannelUpdateReq, UpdateChannelRequest

        body = ChannelUpdateReq(description=description, cross_account=cross_account, policy=policy)
        request = UpdateChannelRequest(channel_id=channel_id, body=body)
        self._call("eg.update_channel", lambda client: client.update_channel(request), write=True)

    # ---- CTS ------------------------------------------------------------------------------
    def system_tracker(self) -> dict | None:
        from huaweicloudsdkcts.v3.model import ListTrackersRequest

        request = ListTrackersRequest(tracker_type="system")
        trackers = self._call("cts.list_trackers", lambda client: client.list_trackers(request)).get("trackers")
        return next(iter(trackers or []), None)

    def create_system_tracker(self) -> None:
        from huaweicloudsdkcts.v3.model import CreateTrackerRequest, CreateTrackerRequestBody

        request = CreateTrackerRequest(body=CreateTrackerRequestBody(tracker_type="system", tracker_name="system"))
        self._call("cts.create_tracker", lambda client: client.create_tracker(request), write=True)

    # ---- DMS for Kafka --------------------------------------------------------------------
    def kafka_instance(self, instance_id: str) -> dict | None:
        from huaweicloudsdkkafka.v2.model import ShowInstanceRequest

        request = ShowInstanceRequest(instance_id=instance_id)
        try:
            return self._call("kafka.show_instance", lambda client: client.show_instance(request))
        except PrerequisiteError as error:
            if error.status == 404:
                return None
            raise

    def kafka_topics(self, instance_id: str) -> set[str]:
        from huaweicloudsdkkafka.v2.model import ListInstanceTopicsRequest

        names: set[str] = set()
        offset = 0
        while True:
            request = ListInstanceTopicsRequest(instance_id=instance_id, offset=offset, limit=_PAGE)
            answer = self._call("kafka.list_instance_topics", lambda client: client.list_instance_topics(request))
            topics = answer.get("topics") or []
            names.update(str(t.get("name")) for t in topics)
            offset += len(topics)
            if not topics or offset >= int(answer.get("total") or 0):
                return names

    def create_kafka_topic(self, instance_id: str, name: str, partitions: int) -> None:
        from huaweicloudsdkkafka.v2.model import CreateInstanceTopicReq, CreateInstanceTopicRequest

        body = CreateInstanceTopicReq(id=name, partition=partitions, replication=3, sync_replication=False)
        request = CreateInstanceTopicRequest(instance_id=instance_id, body=body)
        self._call(
            "kafka.create_instance_topic",
            lambda client: client.create_instance_topic(request),
            write=True,
        )
