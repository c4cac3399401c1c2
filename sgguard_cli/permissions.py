"""Least privilege: the IAM action behind every cloud call the functions make.

``ACTIONS_BY_CALL`` maps each operation name to its IAM action (role/policy-based custom policy,
``"Version": "1.1"``, as an agency uses). Operation names are

* the gateway's: the strings passed to ``_read("...")`` / ``_write("...")`` in ``shared/`` (see
  ``shared/cloud/gateway.py``);
* ``service.sdk_method`` for any other official SDK call made in ``shared/`` (the result sinks):
  found by scanning for calls of a method that the SDK clients define.

:func:`operations_in_code` derives the set of operations from the code; tests/deploy/
test_permissions.py checks that this table covers exactly that set and that template.yaml's agency
policy grants exactly the actions it maps to, both ways. Sources are cited in template.yaml.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

__all__ = [
    "ACTIONS_BY_CALL",
    "MEMBER_ONLY_CALLS",
    "SDK_METHOD_CALLS",
    "SDK_CLIENTS",
    "operations_in_code",
    "required_actions",
    "unmapped_sdk_calls",
]

from .project import shared_sources_root

ROOT = shared_sources_root()  # the folder holding shared/: the source checkout, or site-packages

ACTIONS_BY_CALL: dict[str, str] = {
    # VPC (v1 API through the SDK's v2 client; v3 for insert / remove and security groups)
    "vpc.list_ports": "vpc:ports:get",
    "vpc.show_port": "vpc:ports:get",
    "vpc.update_port": "vpc:ports:update",
    "vpc.insert_security_groups": "vpc:ports:update",
    "vpc.remove_security_groups": "vpc:ports:update",
    "vpc.list_security_groups": "vpc:securityGroups:get",
    "vpc.show_security_group": "vpc:securityGroups:get",
    "vpc.list_security_group_rules": "vpc:securityGroupRules:get",
    "vpc.show_address_group": "vpc:addressGroups:get",  # the identity-policy name is list/get: verify
    # ECS
    "ecs.show_server": "ecs:cloudServers:get",
    "ecs.list_servers_details": "ecs:cloudServers:list",  # sg_drift's sweep
    "ecs.show_job": "ecs:cloudServers:get",  # no action of its own is documented (see template.yaml)
    # (ecs.list_server_interfaces, if the code starts calling it: ecs:cloudServers:listServerInterfaces
    #  per published policies; verify before adding)
    # organisation scale (TARGETS): the function's agency assumes each member's agency (IAM5 action)
    "sts.assume_agency": "sts:agencies:assume",
    # ... and the member agency lists its account's projects (projects: all; and for a member's events,
    # the project's region): granted in the member account's agency, not in this template's (MEMBER_ONLY_CALLS)
    "iam.keystone_list_projects": "iam:projects:list",
    # ... and, with discover: {organizations: true}, lists the organisation's accounts
    "organizations.list_accounts": "organizations:accounts:list",
    # result sinks
    "functiongraph.async_invoke_function": "functiongraph:function:invokeAsync",
    "eg.put_events": "eg:channels:putEvents",
    "smn.publish_message": "smn:topic:publish",
}

# Calls made with a member agency's credentials only: their actions belong in the member accounts'
# agency (docs/organisation.md), not in the function's own.
MEMBER_ONLY_CALLS = frozenset({"iam.keystone_list_projects"})

# SDK client method -> operation name, for calls made outside the gateway's _read/_write.
SDK_METHOD_CALLS: dict[str, str] = {
    "list_ports": "vpc.list_ports",
    "show_port": "vpc.show_port",
    "update_port": "vpc.update_port",
    "add_security_groups": "vpc.insert_security_groups",
    "remove_security_groups": "vpc.remove_security_groups",
    "list_security_groups": "vpc.list_security_groups",
    "show_security_group": "vpc.show_security_group",
    "list_security_group_rules": "vpc.list_security_group_rules",
    "show_address_group": "vpc.show_address_group",
    "show_server": "ecs.show_server",
    "show_job": "ecs.show_job",
    "list_servers_details": "ecs.list_servers_details",
    "list_server_interfaces": "ecs.list_server_interfaces",
    "async_invoke_function": "functiongraph.async_invoke_function",
    "put_events": "eg.put_events",
    "publish_message": "smn.publish_message",
    "assume_agency": "sts.assume_agency",
    "keystone_list_projects": "iam.keystone_list_projects",
    "list_accounts": "organizations.list_accounts",
}

SDK_CLIENTS = (
    ("huaweicloudsdkvpc.v2", "VpcClient"),
    ("huaweicloudsdkvpc.v3", "VpcClient"),
    ("huaweicloudsdkecs.v2", "EcsClient"),
    ("huaweicloudsdkfunctiongraph.v2", "FunctionGraphClient"),
    ("huaweicloudsdkeg.v1", "EgClient"),
    ("huaweicloudsdksmn.v2", "SmnClient"),
    ("huaweicloudsdkcts.v3", "CtsClient"),  # the CLI's preflight and capture (sgguard_cli/deployer/cts.py)
    (
        "huaweicloudsdkiam.v3",
        "IamClient",
    ),  # the CLI's bootstrap (sgguard_cli/deployer/prereq_api.py); targets' project listing
    ("huaweicloudsdkkafka.v2", "KafkaClient"),  # the CLI's bootstrap and preflight
    ("huaweicloudsdksts.v1", "StsClient"),  # AssumeAgency into member accounts (shared/cloud/agencies.py)
    ("huaweicloudsdkorganizations.v1", "OrganizationsClient"),  # ListAccounts (shared/cloud/discovery.py)
)

_GATEWAY_CALL_RE = re.compile(r"""_(?:read|write|pages)\(\s*["']([a-z0-9_]+\.[a-z0-9_]+)["']""")
_METHOD_CALL_RE = re.compile(r"\.([a-z_][a-z0-9_]*)\(")


@lru_cache(maxsize=1)
def sdk_methods() -> frozenset[str]:
    """Public API methods of the SDK clients the project may use (base ``Client`` methods excluded)."""
    import importlib

    from huaweicloudsdkcore.client import Client

    base = set(dir(Client))
    names: set[str] = set()
    for module, cls in SDK_CLIENTS:
        client = getattr(importlib.import_module(module), cls)
        names.update(
            name
            for name in vars(client)
            if not name.startswith("_")
            and name not in base
            and not name.endswith("_invoker")
            and callable(getattr(client, name))
        )
    return frozenset(names - {"new_builder"})


def _sources(root: Path) -> list[tuple[Path, str]]:
    return [(path, path.read_text(encoding="utf-8")) for path in sorted((root / "shared").rglob("*.py"))]


def operations_in_code(root: Path = ROOT) -> set[str]:
    """Operation names the code under ``shared/`` can perform."""
    found: set[str] = set()
    methods = sdk_methods()
    for _path, text in _sources(root):
        found.update(_GATEWAY_CALL_RE.findall(text))
        for name in _METHOD_CALL_RE.findall(text):
            if name in methods and name in SDK_METHOD_CALLS:
                found.add(SDK_METHOD_CALLS[name])
    return found


def unmapped_sdk_calls(root: Path = ROOT) -> dict[str, list[str]]:
    """SDK client methods called in ``shared/`` that :data:`SDK_METHOD_CALLS` does not know."""
    methods = sdk_methods()
    unknown: dict[str, list[str]] = {}
    for path, text in _sources(root):
        for name in _METHOD_CALL_RE.findall(text):
            if name in methods and name not in SDK_METHOD_CALLS:
                unknown.setdefault(name, []).append(str(path.relative_to(root)))
    return unknown


def required_actions(root: Path = ROOT) -> set[str]:
    """The IAM actions the code needs (KeyError names an operation missing from the table)."""
    return {ACTIONS_BY_CALL[operation] for operation in operations_in_code(root) - MEMBER_ONLY_CALLS}
