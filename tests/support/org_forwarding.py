"""Cross-account EventGrid forwarding in a localcloud organisation with the runtime installed.

The home account deploys ecs_created (through the FunctionGraph SDK, the packaged zip) with an
EVENTGRID trigger on its central custom channel (created through the EG SDK, ``cross_account`` and
a putEvents policy naming the member accounts it admits); a member account subscribes its official
channel's ``HC.ECS`` events with that channel as target (EG SDK, the member's own credentials),
then creates a server through the ECS SDK with its own credentials.
"""

from __future__ import annotations

import base64
import json

from huaweicloudsdkcore.auth.credentials import BasicCredentials

from tests.support.organisation import HOME, HOME_AK, HOME_SK, REGIONS, project_id
from tests.support.sdk import http_config

__all__ = [
    "CHANNEL",
    "client_for",
    "member_credentials",
    "create_central_channel",
    "deploy_ecs_created",
    "subscribe_member",
    "create_member_server",
]

CHANNEL = "sgguard-org-events"
ECS_EVENT_TYPES = ["ECS:CloudTrace:ApiCall", "ECS:CloudTrace:ConsoleAction", "ECS:CloudTrace:SystemAction"]
ORG_VPC, ORG_SUBNET = "9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e61", "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d61"


def client_for(cls, cloud, credentials):
    return (
        cls.new_builder()
        .with_credentials(credentials)
        .with_endpoints([cloud.url])
        .with_http_config(http_config(10.0))
        .build()
    )


def home_credentials() -> BasicCredentials:
    return BasicCredentials(HOME_AK, HOME_SK, project_id(HOME, REGIONS[0]))


def member_credentials(org, domain_id: str, region: str) -> BasicCredentials:
    """A user AK/SK of the member account (bound to it), for its project in ``region``."""
    project = project_id(domain_id, region)
    credential = org.clouds[region].backend.issue_temporary_credential(project, agency=None)
    credential.domain_id = domain_id
    return BasicCredentials(credential.ak, credential.sk, project).with_security_token(credential.security_token)


def create_central_channel(org, admitted: list[str]) -> str:
    """The home account's central channel (CreateChannel), admitting ``admitted`` accounts' putEvents."""
    from huaweicloudsdkeg.v1 import (
        ChannelCreateReq,
        ChannelCreateReqPolicy,
        ChannelCreateReqPrincipal,
        CreateChannelRequest,
        EgClient,
    )

    statement = ChannelCreateReqPolicy(
        sid="allow_member_accounts_to_put_events",
        effect="Allow",
        principal={"members": ChannelCreateReqPrincipal(iam=list(admitted))},
        action="eg:channels:putEvents",
        resource=f"urn:eg:{REGIONS[0]}:{HOME}:channel:{CHANNEL}",
    )
    body = ChannelCreateReq(
        name=CHANNEL,
        description="sgguard: member accounts' ECS / VPC events",
        cross_account=True,
        policy={"members": statement},
    )
    client = client_for(EgClient, org.home, home_credentials())
    return client.create_channel(CreateChannelRequest(body=body)).id


def deploy_ecs_created(org, channel_id: str, zip_path, user_data: dict) -> str:
    """ecs_created in the home project (CreateFunction) with an EVENTGRID trigger on ``channel_id``."""
    from huaweicloudsdkfunctiongraph.v2 import (
        CreateFunctionRequest,
        CreateFunctionRequestBody,
        CreateFunctionTriggerRequest,
        CreateFunctionTriggerRequestBody,
        FuncCode,
        FunctionGraphClient,
        TriggerEventDataRequestBody,
    )

    client = client_for(FunctionGraphClient, org.home, home_credentials())
    body = CreateFunctionRequestBody(
        func_name="ecs_created",
        package="default",
        runtime="Python3.12",
        handler="index.handler",
        memory_size=256,
        timeout=60,
        code_type="zip",
        code_filename="ecs_created.zip",
        func_code=FuncCode(file=base64.b64encode(zip_path.read_bytes()).decode()),
        xrole="sgguard-functions",
        user_data=json.dumps(user_data),
    )
    urn = client.create_function(CreateFunctionRequest(body=body)).func_urn
    event_data = TriggerEventDataRequestBody(
        channel_id=channel_id,
        channel_name=CHANNEL,
        source_name="HC.ECS",
        trigger_name="sgguard_ecs_created_org",
        agency="fgs_to_eg",
        event_types=ECS_EVENT_TYPES,
    )
    trigger = CreateFunctionTriggerRequestBody(
        trigger_type_code="EVENTGRID", trigger_status="ACTIVE", event_data=event_data
    )
    client.create_function_trigger(CreateFunctionTriggerRequest(function_urn=urn, body=trigger))
    return urn


def subscribe_member(org, domain_id: str, region: str, channel_id: str):
    """The member-side subscription: its ECS events (official channel ``default``) to the central channel."""
    from huaweicloudsdkeg.v1 import (
        CreateSubscriptionRequest,
        EgClient,
        EgTargetDetail,
        SubscriptionCreateReq,
        SubscriptionSource,
        SubscriptionTarget,
    )

    source = SubscriptionSource(
        name="HC.ECS",
        provider_type="OFFICIAL",
        filter={
            "source": [{"op": "StringIn", "values": ["HC.ECS"]}],
            "type": [{"op": "StringIn", "values": ECS_EVENT_TYPES}],
        },
    )
    target = SubscriptionTarget(
        name="HC.EG",
        provider_type="OFFICIAL",
        eg_detail=EgTargetDetail(
            target_project_id=project_id(HOME, REGIONS[0]),
            target_channel_id=channel_id,
            target_region=REGIONS[0],
            cross_region=region != REGIONS[0],
            cross_account=True,
            agency_name="EG_AGENCY",
        ),
    )
    body = SubscriptionCreateReq(name="sgguard-forward", channel_id="default", sources=[source], targets=[target])
    client = client_for(EgClient, org.clouds[region], member_credentials(org, domain_id, region))
    return client.create_subscription(CreateSubscriptionRequest(body=body))


def create_member_server(org, domain_id: str, region: str, name: str) -> str:
    """A server created by the member itself (CreatePostPaidServers with its own credentials)."""
    from huaweicloudsdkecs.v2 import (
        CreatePostPaidServersRequest,
        CreatePostPaidServersRequestBody,
        EcsClient,
        PostPaidServer,
        PostPaidServerNic,
    )

    server = PostPaidServer(
        name=name,
        flavor_ref="s6.large.2",
        image_ref="img-0001",
        vpcid=ORG_VPC,
        nics=[PostPaidServerNic(subnet_id=ORG_SUBNET)],
    )
    client = client_for(EcsClient, org.clouds[region], member_credentials(org, domain_id, region))
    response = client.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=server))
    )
    return response.server_ids[0]
