"""A second enterprise project in the default seeded project: groups and a server outside "0".

Without ``enterprise_project_id=all_granted_eps`` the VPC listings show none of it, as the real
API lists only the default enterprise project when the parameter is absent (docs/fidelity.md).
"""

from __future__ import annotations

EP2 = "5e1b9c6c-0000-4000-8000-0000000000e2"
EP2_WEB = "a0000000-0000-4000-8000-0000000000e1"
EP2_BASELINE = "a0000000-0000-4000-8000-0000000000e2"
EP2_SERVER = "c0000000-0000-4000-8000-0000000000e9"
EP2_PORT = "d0000000-0000-4000-8000-0000000000e1"

__all__ = ["EP2", "EP2_WEB", "EP2_BASELINE", "EP2_SERVER", "EP2_PORT", "seed_second_enterprise_project"]


def seed_second_enterprise_project(cloud) -> dict:
    return cloud.seed(
        {
            "projects": [
                {
                    "id": cloud.project_id,
                    "security_groups": [
                        {
                            "id": EP2_WEB,
                            "name": "ep2-web",
                            "description": "HTTP from the office",
                            "enterprise_project_id": EP2,
                            "rules": [
                                {
                                    "direction": "ingress",
                                    "ethertype": "IPv4",
                                    "protocol": "tcp",
                                    "multiport": "80",
                                    "remote_ip_prefix": "10.0.0.0/8",
                                    "action": "allow",
                                    "priority": 1,
                                }
                            ],
                        },
                        {
                            "id": EP2_BASELINE,
                            "name": "ep2-baseline",
                            "description": "baseline of the second enterprise project",
                            "enterprise_project_id": EP2,
                        },
                    ],
                    "servers": [
                        {
                            "id": EP2_SERVER,
                            "name": "ep2-app-01",
                            "flavor": "s6.large.2",
                            "availability_zone": "cn-north-4a",
                            "status": "ACTIVE",
                            "tags": {"env": "prod", "role": "app"},
                            "enterprise_project_id": EP2,
                            "nics": [
                                {
                                    "subnet": "subnet-app",
                                    "ip_address": "10.0.2.90",
                                    "port_id": EP2_PORT,
                                    "security_groups": ["ep2-baseline", "default"],
                                }
                            ],
                        },
                    ],
                }
            ]
        }
    )
