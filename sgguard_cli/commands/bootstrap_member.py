"""``sgguard bootstrap --member``: in a member account, the EventGrid subscription that forwards its
ECS and VPC events to the central channel of the sgguard deployment (docs/organisation.md, "The
member-side subscription").

Run with the **member's** credentials (``HUAWEICLOUD_SDK_AK`` / ``_SK`` / ``_PROJECT_ID``: its
project in ``--region``), once per governed region. Plans first (ListSubscriptions, a read): the
subscription ``sgguard-forward`` on the region's official channel ``default``, sources ``HC.ECS``
and ``HC.VPC`` (their ``CloudTrace`` types), target ``HC.EG`` = the central channel
(``eg_detail``: ``target_project_id``, ``target_channel_id``, ``target_region``, ``cross_account``,
``cross_region``, ``agency_name``). Absent: created (CreateSubscription) after "yes"; present with
that target: nothing to do; present with another target: a problem, nothing written (never
repurposed). The central channel must admit the account (its policy: docs/organisation.md).
"""

from __future__ import annotations

import re
from typing import Any

from ..cloudargs import cloud_target
from ..errors import ConfigError, Problems, UsageError

__all__ = ["SUBSCRIPTION", "add_member_arguments", "run_member", "subscription_body"]

SUBSCRIPTION = "sgguard-forward"
_TYPES = ("CloudTrace:ApiCall", "CloudTrace:ConsoleAction", "CloudTrace:SystemAction")
_PROJECT = re.compile(r"[0-9a-f]{32}")
_CHANNEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,3}")
_AGENCY = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def add_member_arguments(parser) -> None:
    parser.add_argument(
        "--member", action="store_true", help="in a member account: the EventGrid subscription to the central channel"
    )
    parser.add_argument("--central-project-id", help="--member: the home project holding the central channel")
    parser.add_argument("--central-channel-id", help="--member: the central channel (ORG_EG_CHANNEL_ID)")
    parser.add_argument("--central-region", help="--member: the central channel's region (default: --region)")
    parser.add_argument("--eg-agency", default="EG_AGENCY", help="--member: the agency EventGrid forwards with")


def _checked(args, region: str) -> dict[str, str]:
    values = {
        "--central-project-id": (args.central_project_id or "", _PROJECT, "32 lowercase hex characters"),
        "--central-channel-id": (args.central_channel_id or "", _CHANNEL, "a channel id"),
        "--central-region": (args.central_region or region, _REGION, "a region id such as cn-north-4"),
        "--eg-agency": (args.eg_agency or "", _AGENCY, "an agency name"),
    }
    problems = [
        f"{flag}: {value!r} is not {what}" for flag, (value, rule, what) in values.items() if not rule.fullmatch(value)
    ]
    if problems:
        raise UsageError("bootstrap --member:\n  " + "\n  ".join(problems))
    return {flag: value for flag, (value, _, _) in values.items()}


def subscription_body(central_project: str, channel: str, central_region: str, region: str, agency: str) -> dict:
    """The CreateSubscription body (the API's field names)."""

    def source(service: str) -> dict[str, Any]:
        types = [f"{service}:{kind}" for kind in _TYPES]
        rules = {
            "source": [{"op": "StringIn", "values": [f"HC.{service}"]}],
            "type": [{"op": "StringIn", "values": types}],
        }
        return {"name": f"HC.{service}", "provider_type": "OFFICIAL", "filter": rules}

    detail = {
        "target_project_id": central_project,
        "target_channel_id": channel,
        "target_region": central_region,
        "cross_account": True,
        "cross_region": central_region != region,
        "agency_name": agency,
    }
    return {
        "name": SUBSCRIPTION,
        "description": "sgguard: this account's ECS and VPC events to the central channel",
        "channel_id": "default",
        "sources": [source("ECS"), source("VPC")],
        "targets": [{"name": "HC.EG", "provider_type": "OFFICIAL", "eg_detail": detail}],
    }


def _client(target, credentials) -> Any:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkeg.v1 import EgClient

    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.retry_times = 0  # the SDK's retry re-sends writes; bootstrap is simply run again
    basic = BasicCredentials(credentials.ak, credentials.sk, credentials.project_id)
    if credentials.security_token:
        basic = basic.with_security_token(credentials.security_token)
    return (
        EgClient.new_builder()
        .with_credentials(basic)
        .with_endpoints([target.endpoint("eg")])
        .with_http_config(config)
        .build()
    )


def _same_target(existing: Any, detail: dict) -> bool:
    targets = [t.eg_detail for t in existing.targets or [] if getattr(t, "eg_detail", None)]
    keys = ("target_project_id", "target_channel_id", "target_region")
    return any(all(getattr(t, key, None) == detail[key] for key in keys) for t in targets)


def run_member(args, ctx) -> int:
    from huaweicloudsdkcore.exceptions.exceptions import SdkException
    from huaweicloudsdkeg.v1 import CreateSubscriptionRequest, ListSubscriptionsRequest, SubscriptionCreateReq

    from ..deployer.review import confirm

    target = cloud_target(args, ctx.environ)
    credentials = target.required_credentials()
    values = _checked(args, target.region)
    body = subscription_body(
        values["--central-project-id"],
        values["--central-channel-id"],
        values["--central-region"],
        target.region,
        values["--eg-agency"],
    )
    detail = body["targets"][0]["eg_detail"]
    where = (
        f"channel {detail['target_channel_id']} of project {detail['target_project_id']} in {detail['target_region']}"
    )
    client = _client(target, credentials)
    try:
        found = client.list_subscriptions(ListSubscriptionsRequest(name=SUBSCRIPTION)).items or []
        existing = next((item for item in found if item.name == SUBSCRIPTION), None)
        if existing is not None:
            if _same_target(existing, detail):
                ctx.out(f"  ok       eg subscription    {SUBSCRIPTION}  (HC.ECS, HC.VPC -> {where})")
                ctx.out("bootstrap --member: 0 change(s) planned")
                return 0
            ctx.out(f"! missing  eg subscription    {SUBSCRIPTION}  (it exists with another target)")
            ctx.out("             -> delete or rename it, then run again: nothing was changed")
            raise Problems(f"subscription {SUBSCRIPTION} exists with another target: nothing was changed")
        ctx.out(f"+ create   eg subscription    {SUBSCRIPTION}  (HC.ECS, HC.VPC -> {where})")
        ctx.out("bootstrap --member: 1 change(s) planned")
        if args.plan:
            return 0
        if not confirm("Apply 1 change(s)?", yes=args.yes, stdin=getattr(ctx, "stdin", None)):
            ctx.out("declined: nothing was changed")
            return 0
        request = SubscriptionCreateReq(**{k: v for k, v in body.items()})
        created = client.create_subscription(CreateSubscriptionRequest(body=request))
        ctx.out(f"created eg subscription {SUBSCRIPTION} ({created.id}); the central channel must admit this account")
    except SdkException as error:
        status = getattr(error, "status_code", None)
        raise ConfigError(f"EventGrid answered {status}: {getattr(error, 'error_msg', error)}") from None
    return 0
