"""Response shapes of the ECS API, built from model records (field names from the SDK's
``attribute_map``s: ``ServerDetail``, ``ServerAddress``, ``InterfaceAttachment``, ``ShowJobResponse``,
``SubJob``). Pure functions: the model's state is read, never changed, and only what
:class:`EcsReader` lists is read (``EcsModel`` is one; this module never imports the model)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from localcloud.core.timefmt import iso_or_none

from . import errors

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = [
    "EcsReader",
    "server_view",
    "missing_server_view",
    "interface_view",
    "job_view",
    "sub_job_view",
    "tags_view",
]


class EcsReader(Protocol):
    """What a server's view reads of the ECS model: its project (the ``tenant_id``) and, from the
    VPC, the server's ports, a port's VPC and the server-wide security groups."""

    @property
    def project(self) -> ProjectState: ...

    def server_ports(self, server: dict[str, Any]) -> list[dict[str, Any]]: ...

    def port_vpc_id(self, port: dict[str, Any], default: str | None = None) -> str | None: ...

    def server_security_groups(
        self, server: dict[str, Any], ports: list[dict[str, Any]] | None = None
    ) -> list[dict[str, Any]]: ...


def _addresses(
    model: EcsReader, server: dict[str, Any], ports: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    addresses: dict[str, list[dict]] = {}
    for index, port in enumerate(ports):
        vpc_id = model.port_vpc_id(port, server["vpc_id"]) or server["vpc_id"]
        for fixed in port.get("fixed_ips", []):
            address = fixed["ip_address"]
            addresses.setdefault(vpc_id, []).append(
                {
                    "version": "6" if ":" in address else "4",
                    "addr": address,
                    "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": port.get("mac_address"),
                    "OS-EXT-IPS:port_id": port["id"],
                    "primary": index == 0,
                }
            )
    return addresses


def server_view(model: EcsReader, server: dict[str, Any]) -> dict[str, Any]:
    """``GET /v1/{project_id}/cloudservers/{server_id}`` -> ``server``."""
    ports = model.server_ports(server)
    status = server["status"]
    metadata = {
        "charging_mode": "0",
        "metering.image_id": server["image_id"],
        "metering.imagetype": "gold",
        "metering.resourcespeccode": f"{server['flavor']['id']}.linux",
        "metering.resourcetype": "1",
        "image_name": "localcloud-image",
        "os_type": "Linux",
        "os_bit": "64",
        **server["metadata"],
        "vpc_id": server["vpc_id"],
    }
    return {
        "id": server["id"],
        "name": server["name"],
        "description": server["description"],
        "status": status,
        "OS-EXT-STS:task_state": server["task_state"],
        "OS-EXT-STS:vm_state": server["vm_state"],
        "OS-EXT-STS:power_state": server["power_state"],
        "progress": 0 if status == "BUILD" else 100,
        "created": iso_or_none(server["created"]),
        "updated": iso_or_none(server["updated"]),
        "OS-SRV-USG:launched_at": iso_or_none(server["launched_at"]) or "",
        "OS-SRV-USG:terminated_at": "",
        "addresses": _addresses(model, server, ports),
        "security_groups": model.server_security_groups(server, ports),
        "metadata": metadata,
        "tags": [f"{key}={value}" for key, value in server["tags"].items()],
        "sys_tags": [{"key": "_sys_enterprise_project_id", "value": server["enterprise_project_id"]}],
        "enterprise_project_id": server["enterprise_project_id"],
        "OS-EXT-AZ:availability_zone": server["availability_zone"],
        "flavor": dict(server["flavor"]),
        "image": {"id": server["image_id"]},
        "key_name": server["key_name"],
        "user_id": "0" * 24 + "localusr",
        "tenant_id": model.project.project_id,
        "hostId": server["host_id"],
        "host_status": "UP",
        "OS-EXT-SRV-ATTR:host": f"host-{server['host_id'][:8]}",
        "OS-EXT-SRV-ATTR:hypervisor_hostname": f"nova-{server['host_id'][:12]}",
        "OS-EXT-SRV-ATTR:instance_name": server["instance_name"],
        "OS-EXT-SRV-ATTR:hostname": server["name"].replace("_", "-").lower(),
        "OS-EXT-SRV-ATTR:reservation_id": server["reservation_id"],
        "OS-EXT-SRV-ATTR:launch_index": server["launch_index"],
        "OS-EXT-SRV-ATTR:kernel_id": "",
        "OS-EXT-SRV-ATTR:ramdisk_id": "",
        "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
        "OS-EXT-SRV-ATTR:user_data": server["user_data"],
        "OS-DCF:diskConfig": "MANUAL",
        "accessIPv4": "",
        "accessIPv6": "",
        "config_drive": "",
        "locked": False,
        "fault": dict(server["fault"]) if server["fault"] else None,
        "os-extended-volumes:volumes_attached": [
            {"id": server["root_volume_id"], "delete_on_termination": "true", "bootIndex": "0", "device": "/dev/vda"},
        ],
        "os:scheduler_hints": {},
    }


def missing_server_view(server_id: str) -> dict[str, Any]:
    """A ``server_id`` filter entry for an id that does not exist: id and fault, nothing else."""
    error = errors.server_not_found(server_id)
    return {"id": server_id, "fault": {"code": error.status, "message": error.message, "details": error.code}}


def interface_view(port: dict[str, Any]) -> dict[str, Any]:
    """``GET .../os-interface`` -> one ``interfaceAttachments`` item."""
    return {
        "port_state": port.get("status", "ACTIVE"),
        "fixed_ips": [
            {"subnet_id": fixed["subnet_id"], "ip_address": fixed["ip_address"]} for fixed in port.get("fixed_ips", [])
        ],
        "port_id": port["id"],
        "net_id": port.get("network_id"),
        "mac_addr": port.get("mac_address"),
        "delete_on_termination": True,
        "driver_mode": "virtio",
    }


def sub_job_view(sub_job: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": sub_job["status"],
        "entities": {"server_id": sub_job["server_id"]},
        "job_id": sub_job["job_id"],
        "job_type": sub_job["job_type"],
        "begin_time": iso_or_none(sub_job["begin_time"], millis=True),
        "end_time": iso_or_none(sub_job["end_time"], millis=True),
        "error_code": sub_job["error_code"],
        "fail_reason": sub_job["fail_reason"],
    }


def job_view(job: dict[str, Any]) -> dict[str, Any]:
    """``GET /v1/{project_id}/jobs/{job_id}``."""
    return {
        "status": job["status"],
        "entities": {
            "sub_jobs_total": len(job["sub_jobs"]),
            "sub_jobs": [sub_job_view(sub_job) for sub_job in job["sub_jobs"]],
        },
        "job_id": job["job_id"],
        "job_type": job["job_type"],
        "begin_time": iso_or_none(job["begin_time"], millis=True),
        "end_time": iso_or_none(job["end_time"], millis=True),
        "error_code": job["error_code"],
        "fail_reason": job["fail_reason"],
    }


def tags_view(server: dict[str, Any]) -> dict[str, Any]:
    return {"tags": [{"key": key, "value": value} for key, value in server["tags"].items()]}
