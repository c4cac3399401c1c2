"""An organisation in localcloud: a home account and 3 members, each with a project in 2 regions.

Each region is its own localcloud server (its own port, as each region has its own endpoints);
both share one directory of accounts, agencies and AKs. The members:

- ``GOOD``: agency ``sgguard-member`` trusting the home account, external id ``ext-good-0001``;
- ``NO_AGENCY``: no agency at all (``AGENCY_MISSING``);
- ``WRONG_EXT``: the agency expects ``ext-expected-01``; TARGETS gives another one (``ACCESS_DENIED``).

Organizations: the home account is the management account; ``GOOD`` and ``WRONG_EXT`` sit in the
OU :data:`OU_PROD`, ``NO_AGENCY`` under the root; a fifth account, ``CLOSED`` (no projects), is
``suspended``, and a sixth, ``CLOSING``, ``pending_closure``: ListAccounts lists them, discovery skips them.

Every project holds the same groups and the same server (same ids): a change applied with the
wrong credentials or in the wrong project would show up somewhere it should not.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

REGIONS = ("cn-north-4", "ap-southeast-1")
HOME = "10" * 16
GOOD = "20" * 16
NO_AGENCY = "30" * 16
WRONG_EXT = "40" * 16
ACCOUNTS = {HOME: "home", GOOD: "prod", NO_AGENCY: "legacy", WRONG_EXT: "sandbox"}
CLOSED = "50" * 16
CLOSING = "60" * 16
OU_PROD = "ou-prod00001"
ROOT = "r-root"
MEMBER_AGENCY = "sgguard-member"
GOOD_EXTERNAL_ID = "ext-good-0001"
HOME_AK, HOME_SK = "ORGHOMEAK0000000001", "org-home-secret-key-000000000000001"

SERVER = "c1000000-0000-4000-8000-000000000001"
PORT = "d1000000-0000-4000-8000-000000000001"
GROUPS = {"baseline": "a1000000-0000-4000-8000-000000000001", "web": "a1000000-0000-4000-8000-000000000002"}

__all__ = [
    "REGIONS",
    "HOME",
    "GOOD",
    "NO_AGENCY",
    "WRONG_EXT",
    "CLOSED",
    "CLOSING",
    "OU_PROD",
    "ROOT",
    "MEMBER_AGENCY",
    "GOOD_EXTERNAL_ID",
    "SERVER",
    "PORT",
    "GROUPS",
    "project_id",
    "region_seed",
    "Organisation",
    "targets_setting",
]


def project_id(domain_id: str, region: str) -> str:
    """A stable 32-hex project id per account and region."""
    return f"{domain_id[:2]}{REGIONS.index(region) + 1:02d}" + "ab" * 14


def _project(domain_id: str, region: str) -> dict:
    return {
        "id": project_id(domain_id, region),
        "name": region,
        "domain_id": domain_id,
        "vpcs": [
            {
                "id": "9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e61",
                "name": "vpc-org",
                "cidr": "10.1.0.0/16",
                "subnets": [
                    {
                        "id": "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d61",
                        "name": "subnet-org",
                        "cidr": "10.1.1.0/24",
                        "gateway_ip": "10.1.1.1",
                    }
                ],
            }
        ],
        "security_groups": [
            {"id": GROUPS["baseline"], "name": "baseline", "description": "org baseline"},
            {"id": GROUPS["web"], "name": "web", "description": "web"},
        ],
        "servers": [
            {
                "id": SERVER,
                "name": "org-app-01",
                "flavor": "s6.large.2",
                "availability_zone": f"{region}a",
                "status": "ACTIVE",
                "nics": [
                    {"subnet": "subnet-org", "ip_address": "10.1.1.10", "port_id": PORT, "security_groups": ["default"]}
                ],
            }
        ],
    }


def _accounts() -> list[dict]:
    accounts = []
    for domain_id, name in ACCOUNTS.items():
        account: dict = {"domain_id": domain_id, "name": name}
        if domain_id == HOME:
            account["credentials"] = [{"ak": HOME_AK, "sk": HOME_SK}]
        if domain_id == GOOD:
            account["agencies"] = [{"name": MEMBER_AGENCY, "trusted_domain_id": HOME, "external_id": GOOD_EXTERNAL_ID}]
        if domain_id == WRONG_EXT:
            account["agencies"] = [{"name": MEMBER_AGENCY, "trusted_domain_id": HOME, "external_id": "ext-expected-01"}]
        if domain_id in (GOOD, WRONG_EXT):
            account["ou_id"] = OU_PROD
        accounts.append(account)
    accounts.append({"domain_id": CLOSED, "name": "closed", "status": "suspended"})
    accounts.append({"domain_id": CLOSING, "name": "closing", "status": "pending_closure", "ou_id": OU_PROD})
    return accounts


ORGANIZATION = {
    "id": "o-org0000000001",
    "management_account": HOME,
    "root_id": ROOT,
    "units": [{"id": OU_PROD, "name": "production"}],
}


def region_seed(region: str) -> dict:
    return {
        "region": region,
        "settings": {"build_delay_ms": 0},
        "accounts": _accounts(),
        "organization": ORGANIZATION,
        "projects": [_project(domain_id, region) for domain_id in ACCOUNTS],
    }


def targets_setting(**overrides) -> str:
    """TARGETS for the three members, both regions each (``overrides`` replace top-level keys)."""
    document = {
        "defaults": {"agency": MEMBER_AGENCY, "regions": list(REGIONS), "projects": "all"},
        "accounts": [
            {"domain_id": GOOD, "name": "prod", "external_id": GOOD_EXTERNAL_ID},
            {"domain_id": NO_AGENCY, "name": "legacy"},
            {"domain_id": WRONG_EXT, "name": "sandbox", "external_id": "ext-wrong-0001"},
        ],
    }
    document.update(overrides)
    return json.dumps(document)


@dataclass
class Organisation:
    """The running region clouds: ``clouds[region]``, the first one the home region."""

    clouds: dict

    @classmethod
    def start(cls) -> Organisation:
        from localcloud import start

        first = start(region=REGIONS[0], seed=region_seed(REGIONS[0]))
        clouds = {REGIONS[0]: first}
        for region in REGIONS[1:]:
            clouds[region] = start(region=region, seed=region_seed(region), directory=first.backend.directory)
        return cls(clouds)

    def reset(self) -> None:
        """Every region back to its seed (the shared directory is cleared once, then reloaded)."""
        from localcloud.seed import load_seed

        for cloud in self.clouds.values():
            cloud.backend.reset()
            cloud.server.faults.clear()
        for region, cloud in self.clouds.items():
            load_seed(cloud.backend, copy.deepcopy(region_seed(region)))

    def stop(self) -> None:
        for cloud in self.clouds.values():
            cloud.stop()

    @property
    def home(self):
        return self.clouds[REGIONS[0]]

    def endpoint_environment(self) -> dict[str, str]:
        """The SDK's own endpoint overrides, one per service and region, plus STS's."""
        env = {"HUAWEICLOUD_SDK_STS_ENDPOINT": self.home.url}
        for region, cloud in self.clouds.items():
            suffix = region.replace("-", "_").upper()
            for service in ("VPC", "ECS", "STS", "IAM"):
                env[f"HUAWEICLOUD_SDK_REGION_{service}_{suffix}"] = cloud.url
            env[f"HUAWEICLOUD_SDK_REGION_ORGANIZATIONS_{suffix}"] = self.home.url  # a global service
        return env

    def groups_of(self, domain_id: str, region: str) -> list[str]:
        """The ordered groups of the seeded server's port in that account's project of that region."""
        project = self.clouds[region].backend.project(project_id(domain_id, region))
        return list(project.service("vpc").port(PORT)["security_groups"])
