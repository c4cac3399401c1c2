"""ECS state of one project: servers, their creation / deletion jobs and their tags.

Servers own no network state: every NIC is a VPC port (``project.service("vpc")``), created with
``device_id`` = the server id and ``device_owner`` = ``compute:<az>``; addresses, interfaces and
the server-wide security-group list are read from those ports at read time, so a change made
through the VPC API (v2 ``update_port``, v3 insert / remove security groups) shows in ECS at once.

Life of a server created through the API (``create_servers``):

* the request is validated synchronously (400 with a real ``Ecs.xxxx`` code); ``dry_run`` stops
  there. One batch job (``createServer``) with one ``createSingleServer`` sub-job per server is
  recorded; batch names get the real ``-0001``, ``-0002``... suffix.
* the server is in ``BUILD`` (task_state ``spawning``, vm_state ``building``). Its ports are
  created at once when ``settings.ports_delay_ms`` is 0, else by a timer after that delay: a
  caller can see a BUILD server with no NIC. While the networking is not built, the job is
  ``INIT``; then ``RUNNING``.
* it becomes ``ACTIVE`` after ``settings.build_delay_ms`` (a timer, so it happens with nobody
  polling) or, when ``settings.build_polls`` > 0 at creation, on the first ``show_server`` after
  that many ``show_server`` calls that answered BUILD. Ports not built yet are built then.
  Activation completes the sub-job and publishes ``ecs.server_created`` once per server
  (``project``, ``server`` = the show_server view, ``job`` = the createSingleServer sub-job view).
* **failure hook**: a server whose name starts with ``fail-build`` ends in ``ERROR`` instead of
  ACTIVE: its ports are rolled back (deleted), it gets a ``fault``, and its sub-job (so the batch
  job) is ``FAIL`` with ``error_code`` ``Ecs.0204`` and a ``fail_reason``. A port that cannot
  be created (say a fixed IP already in use) fails the same way when the ports are delayed, and
  fails the request itself (400, nothing created) when they are built in the request.
* deleting a server removes it at once (then ``show_server`` is 404 ``Ecs.0114``) with its
  ports; a pending BUILD transition is cancelled and its creation sub-job ends ``FAIL``.

Servers from a seed document are created as they are described (default ``ACTIVE``), with their
ports, and no job, no timer and no event.

Timers take the backend lock, check the server is still the same object, and are cancelled by
:meth:`EcsModel.close` (called by ``Backend.reset``).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from localcloud.core.errors import BadRequest, CloudError, NotFound

__all__ = ["EcsModel", "ServerRequest", "NicRequest", "parse_flavor", "STATUS_STATES", "FAIL_BUILD_PREFIX"]

FAIL_BUILD_PREFIX = "fail-build"
DEFAULT_IMAGE_ID = "e3d8a4c2-5b1f-4c7e-9a60-0d1c2b3a4f50"  # when a request has no imageRef (real: required)
MAX_COUNT = 100  # servers per create request (doc: count max 100)
MAX_NICS = 12  # NICs per server (doc)
MAX_TAGS = 10  # tags per server when created (SDK doc)
_NAME_RE = re.compile(r"^[\w.\-\u4e00-\u9fa5]{1,64}$")
_TAG_KEY_RE = re.compile(r"^[\w.\-\u4e00-\u9fa5]{1,36}$")
_TAG_VALUE_RE = re.compile(r"^[\w.\-\u4e00-\u9fa5]{0,43}$")
_FLAVOR_RE = re.compile(r"^([a-z][a-z0-9]*)\.(small|medium|large|xlarge|(\d+)xlarge)\.(\d+)$")

# status -> (vm_state, task_state, power_state) as Nova reports them.
STATUS_STATES: dict[str, tuple[str, str, int]] = {
    "BUILD": ("building", "spawning", 0),
    "ACTIVE": ("active", "", 1),
    "SHUTOFF": ("stopped", "", 4),
    "ERROR": ("error", "", 0),
    "REBOOT": ("active", "rebooting", 1),
    "HARD_REBOOT": ("active", "rebooting_hard", 1),
    "MIGRATING": ("active", "migrating", 1),
    "RESIZE": ("active", "resize_prep", 1),
    "VERIFY_RESIZE": ("resized", "", 1),
    "SUSPENDED": ("suspended", "", 7),
    "PAUSED": ("paused", "", 3),
}


def parse_flavor(flavor_id: str) -> dict | None:
    """``s6.large.2`` -> 2 vCPUs, 4096 MB. None when the name is not a flavor name."""
    match = _FLAVOR_RE.match(flavor_id or "")
    if not match:
        return None
    size = match.group(2)
    if size in ("small", "medium"):
        vcpus = 1
    elif size == "large":
        vcpus = 2
    elif size == "xlarge":
        vcpus = 4
    else:
        vcpus = 4 * int(match.group(3))
    ratio = int(match.group(4))
    return {"id": flavor_id, "name": flavor_id, "vcpus": str(vcpus), "ram": str(vcpus * max(ratio, 1) * 1024),
            "disk": "0"}


def _iso(ts: float, millis: bool = False) -> str:
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class NicRequest:
    subnet_id: str
    ip_address: str | None = None
    port_id: str | None = None


@dataclass
class ServerRequest:
    """A create request after the route parsed the body (field names of PostPaidServer)."""

    name: str | None
    flavor_ref: str | None
    image_ref: str | None = None
    vpc_id: str | None = None
    nics: list[NicRequest] = field(default_factory=list)
    security_groups: list[str] = field(default_factory=list)
    count: int = 1
    tags: list[tuple[str, str]] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    availability_zone: str | None = None
    enterprise_project_id: str | None = None
    key_name: str | None = None
    description: str = ""
    user_data: str | None = None
    root_volume: dict | None = None
    data_volumes: list[dict] = field(default_factory=list)


class EcsModel:
    def __init__(self, project):
        self.project = project
        self.backend = project.backend
        self.servers: dict[str, dict] = {}  # id -> server record, creation order
        self.jobs: dict[str, dict] = {}
        self._client_tokens: dict[str, dict] = {}
        self._timers: set[threading.Timer] = set()
        self._seq = 0
        self._closed = False

    # ---- collaborators ------------------------------------------------------------------
    @property
    def vpc(self):
        return self.project.service("vpc")

    @property
    def settings(self):
        return self.backend.settings

    def _now(self) -> float:
        return self.backend.clock()

    # ---- lookups ------------------------------------------------------------------------
    def get_server(self, server_id: str) -> dict:
        server = self.servers.get(server_id)
        if server is None:
            raise NotFound("Ecs.0114", f"Instance[{server_id}] could not be found.")
        return server

    def get_job(self, job_id: str) -> dict:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound("Ecs.0005", f"Job[{job_id}] could not be found.")
        return job

    def server_ports(self, server: dict) -> list[dict]:
        return list(self.vpc.ports_of_device(server["id"]))

    def port_vpc_id(self, port: dict, default: str | None = None) -> str | None:
        try:
            return self.vpc.subnet(port["network_id"])["vpc_id"]
        except (CloudError, KeyError):
            return default

    def security_group_name(self, sg_id: str) -> str:
        try:
            return self.vpc.security_group(sg_id).get("name", sg_id)
        except CloudError:
            return sg_id

    def server_security_groups(self, server: dict, ports: list[dict] | None = None) -> list[dict]:
        """Server-wide aggregate: the union of the groups on its ports, first-seen order.

        Before the ports exist (BUILD), the groups the server was asked for.
        """
        ports = self.server_ports(server) if ports is None else ports
        ids: list[str] = []
        sources = [port.get("security_groups") or [] for port in ports] if ports else \
            [nic["security_groups"] for nic in server["nics"]]
        for group_ids in sources:
            for sg_id in group_ids:
                if sg_id not in ids:
                    ids.append(sg_id)
        return [{"id": sg_id, "name": self.security_group_name(sg_id)} for sg_id in ids]

    # ---- creation -------------------------------------------------------------------------
    def create_servers(self, request: ServerRequest, *, dry_run: bool = False,
                       client_token: str | None = None) -> dict | None:
        """Validate, then record the servers and their job. Returns ``{"job_id", "server_ids"}``."""
        if client_token and client_token in self._client_tokens:
            return self._client_tokens[client_token]
        plan = self._validate(request)
        if dry_run:
            return None
        now = self._now()
        settings = self.settings
        job = self._new_job("createServer", now)
        reservation_id = "r-" + secrets.token_hex(4)
        created: list[dict] = []
        for index in range(request.count):
            name = request.name if request.count == 1 else f"{request.name}-{index + 1:04d}"
            server = self._new_server(
                name=name, flavor=plan["flavor"], image_id=plan["image_id"], vpc_id=plan["vpc_id"],
                availability_zone=plan["availability_zone"], nics=plan["nics"], status="BUILD",
                tags=dict(request.tags), metadata=dict(request.metadata),
                enterprise_project_id=plan["enterprise_project_id"], key_name=request.key_name,
                description=request.description, user_data=request.user_data, created=now,
                reservation_id=reservation_id, launch_index=index,
            )
            sub_job = self._new_sub_job(job, "createSingleServer", server["id"], now)
            server["job_id"], server["sub_job_id"] = job["job_id"], sub_job["job_id"]
            server["creating"] = True
            server["polls_seen"] = 0
            server["build_polls"] = settings.build_polls
            created.append(server)
        for server in created:
            self.servers[server["id"]] = server
        if settings.ports_delay_ms == 0:
            try:
                for server in created:
                    self._build_ports(server)
            except CloudError as error:
                for server in created:
                    self.vpc.delete_ports_of_device(server["id"])
                    self.servers.pop(server["id"], None)
                self.jobs.pop(job["job_id"], None)
                raise self._port_error(error) from None
        else:
            for server in created:
                self._schedule(server, "ports", settings.ports_delay_ms)
        for server in created:
            if server["build_polls"] > 0:
                continue
            if settings.build_delay_ms == 0:
                self._activate(server)
            else:
                self._schedule(server, "build", settings.build_delay_ms)
        self._refresh_job(job)
        result = {"job_id": job["job_id"], "server_ids": [server["id"] for server in created]}
        if client_token:
            self._client_tokens[client_token] = result
        return result

    def _validate(self, request: ServerRequest) -> dict:
        if not request.name or not isinstance(request.name, str):
            raise BadRequest("Ecs.0005", "Invalid parameter: server.name is required.")
        if request.count < 1:
            raise BadRequest("Ecs.0005", "Invalid parameter: server.count must be at least 1.")
        if request.count > MAX_COUNT:
            raise BadRequest("Ecs.0118", f"The number of ECSs exceeds the maximum allowed limit ({MAX_COUNT}).")
        max_name = 64 if request.count == 1 else 59
        if len(request.name) > max_name or not _NAME_RE.match(request.name):
            raise BadRequest("Ecs.0005", f"Invalid parameter: server.name [{request.name}] is invalid.")
        if not request.flavor_ref:
            raise BadRequest("Ecs.0005", "Invalid parameter: server.flavorRef is required.")
        flavor = parse_flavor(request.flavor_ref)
        if flavor is None:
            raise BadRequest("Ecs.0029", f"The flavor [{request.flavor_ref}] does not exist.")
        if not request.nics:
            raise BadRequest("Ecs.0005", "Invalid parameter: server.nics is required.")
        if len(request.nics) > MAX_NICS:
            raise BadRequest("Ecs.0050", "The number of NICs attached to the ECS exceeds the quota.")
        if len(request.tags) > MAX_TAGS:
            raise BadRequest("Ecs.0005", f"Invalid parameter: at most {MAX_TAGS} tags can be added to an ECS.")
        seen_keys: set[str] = set()
        for key, value in request.tags:
            self._check_tag(key, value)
            if key in seen_keys:
                raise BadRequest("Ecs.0005", f"Invalid parameter: duplicate tag key [{key}].")
            seen_keys.add(key)

        subnets = []
        for nic in request.nics:
            if nic.port_id:
                raise BadRequest("Ecs.0005", "Invalid parameter: nics[].port_id is not supported by localcloud.")
            if not nic.subnet_id:
                raise BadRequest("Ecs.0005", "Invalid parameter: nics[].subnet_id is required.")
            try:
                subnets.append(self.vpc.subnet(nic.subnet_id))
            except CloudError:
                raise BadRequest("Ecs.0038", f"The subnet [{nic.subnet_id}] does not exist.") from None
        vpc_id = request.vpc_id
        if vpc_id:
            try:
                vpc_id = self.vpc.vpc(vpc_id)["id"]
            except CloudError:
                raise BadRequest("Ecs.0014", f"Invalid VPC parameters: VPC [{request.vpc_id}] does not exist.") \
                    from None
        else:
            vpc_id = subnets[0]["vpc_id"]
        if subnets[0]["vpc_id"] != vpc_id:
            raise BadRequest("Ecs.0064", "The VPC ID in the request is inconsistent with that in the main subnet ID.")
        for subnet in subnets[1:]:
            if subnet["vpc_id"] != vpc_id:
                raise BadRequest("Ecs.0014", f"Invalid VPC parameters: subnet [{subnet['id']}] is not in VPC "
                                             f"[{vpc_id}].")
        fixed_ips: set[str] = set()
        for nic, subnet in zip(request.nics, subnets):
            if not nic.ip_address:
                continue
            if request.count > 1:
                raise BadRequest("Ecs.0005", "Invalid parameter: a fixed ip_address cannot be used when count > 1.")
            try:
                address = ipaddress.ip_address(nic.ip_address)
                network = ipaddress.ip_network(subnet["cidr"], strict=False)
            except ValueError:
                raise BadRequest("Ecs.0005", f"Invalid parameter: ip_address [{nic.ip_address}].") from None
            if address not in network:
                raise BadRequest("Ecs.0039", f"The specified IP address [{nic.ip_address}] does not belong to the "
                                             f"subnet.")
            if nic.ip_address in fixed_ips:
                raise BadRequest("Ecs.0010", f"Private IP address {nic.ip_address} is already in use.")
            fixed_ips.add(nic.ip_address)

        if request.security_groups:
            group_ids = []
            for ref in request.security_groups:
                try:
                    sg_id = self.vpc.resolve_security_group(ref)["id"]
                except CloudError:
                    raise BadRequest("Ecs.0014", f"Invalid security group parameters: security group [{ref}] "
                                                 f"does not exist.") from None
                if sg_id not in group_ids:
                    group_ids.append(sg_id)
        else:
            group_ids = [self.vpc.default_security_group()["id"]]

        availability_zone = request.availability_zone or f"{self.backend.region}a"
        return {
            "flavor": flavor,
            "image_id": request.image_ref or DEFAULT_IMAGE_ID,
            "vpc_id": vpc_id,
            "availability_zone": availability_zone,
            "enterprise_project_id": request.enterprise_project_id or "0",
            "nics": [{"subnet_id": subnet["id"], "ip_address": nic.ip_address or None,
                      "security_groups": list(group_ids), "port_id": None, "port_security_enabled": True}
                     for nic, subnet in zip(request.nics, subnets)],
        }

    @staticmethod
    def _check_tag(key: Any, value: Any) -> None:
        if not isinstance(key, str) or not _TAG_KEY_RE.match(key):
            raise BadRequest("Ecs.0005", f"Invalid parameter: tag key [{key}] is invalid.")
        if not isinstance(value, str) or not _TAG_VALUE_RE.match(value):
            raise BadRequest("Ecs.0005", f"Invalid parameter: tag value [{value}] is invalid.")

    def _new_server(self, *, name, flavor, image_id, vpc_id, availability_zone, nics, status, tags, metadata,
                    enterprise_project_id, key_name, description, user_data, created, reservation_id,
                    launch_index, server_id=None) -> dict:
        self._seq += 1
        server_id = server_id or str(uuid.uuid4())
        vm_state, task_state, power_state = STATUS_STATES.get(status, STATUS_STATES["ACTIVE"])
        return {
            "id": server_id, "name": name, "seq": self._seq, "status": status, "vm_state": vm_state,
            "task_state": task_state, "power_state": power_state, "flavor": dict(flavor), "image_id": image_id,
            "vpc_id": vpc_id, "availability_zone": availability_zone, "nics": [dict(nic) for nic in nics],
            "tags": dict(tags), "metadata": dict(metadata), "enterprise_project_id": enterprise_project_id,
            "key_name": key_name, "description": description or "", "user_data": user_data,
            "created": created, "updated": created, "launched_at": created if status != "BUILD" else None,
            "reservation_id": reservation_id, "launch_index": launch_index,
            "instance_name": f"instance-{self._seq:08x}", "host_id": secrets.token_hex(28),
            "root_volume_id": str(uuid.uuid4()), "fault": None, "ports_built": False,
            "job_id": None, "sub_job_id": None, "creating": False, "polls_seen": 0, "build_polls": 0,
            "timers": {},
        }

    # ---- transitions ------------------------------------------------------------------------
    def _build_ports(self, server: dict) -> None:
        """Create the server's ports through the VPC model (all or none)."""
        if server["ports_built"]:
            return
        vpc = self.vpc
        try:
            for nic in server["nics"]:
                vpc.create_port(subnet_id=nic["subnet_id"], device_id=server["id"],
                                device_owner=f"compute:{server['availability_zone']}",
                                security_group_ids=list(nic["security_groups"]), ip_address=nic.get("ip_address"),
                                port_id=nic.get("port_id"),
                                port_security_enabled=nic.get("port_security_enabled", True), name="")
        except CloudError:
            vpc.delete_ports_of_device(server["id"])
            raise
        server["ports_built"] = True
        if server["job_id"]:
            self._refresh_job(self.jobs.get(server["job_id"]))

    @staticmethod
    def _port_error(error: CloudError) -> CloudError:
        """A VPC port error as the ECS error a create request or job reports."""
        if error.code == "VPC.0701":
            return BadRequest("Ecs.0010", f"The private IP address is already in use. ({error.message})")
        if error.code == "VPC.0703":
            return BadRequest("Ecs.0012", f"Insufficient IP addresses. ({error.message})")
        if error.code == "VPC.0705":
            return BadRequest("Ecs.0039", f"The specified IP address does not belong to the subnet. "
                                          f"({error.message})")
        return BadRequest("Ecs.0201", f"Failed to create the NIC. ({error.code}: {error.message})")

    def _schedule(self, server: dict, kind: str, delay_ms: int) -> None:
        timer: threading.Timer

        def fire() -> None:
            self._timers.discard(timer)
            self._on_timer(server, kind)

        timer = threading.Timer(delay_ms / 1000.0, fire)
        timer.daemon = True
        server["timers"][kind] = timer
        self._timers.add(timer)
        timer.start()

    def _cancel_timers(self, server: dict) -> None:
        for timer in server["timers"].values():
            timer.cancel()
            self._timers.discard(timer)
        server["timers"].clear()

    def _on_timer(self, server: dict, kind: str) -> None:
        with self.backend.lock:
            if self._closed or self.servers.get(server["id"]) is not server or not server["creating"]:
                return
            server["timers"].pop(kind, None)
            if kind == "ports":
                try:
                    self._build_ports(server)
                except CloudError as error:
                    mapped = self._port_error(error)
                    self._fail(server, mapped.code, mapped.message)
            elif kind == "build":
                self._activate(server)

    def _activate(self, server: dict) -> None:
        """End of BUILD: ACTIVE (job SUCCESS, event) or, for the failure hook, ERROR (job FAIL)."""
        if not server["creating"]:
            return
        try:
            self._build_ports(server)
        except CloudError as error:
            mapped = self._port_error(error)
            self._fail(server, mapped.code, mapped.message)
            return
        if server["name"].startswith(FAIL_BUILD_PREFIX):
            self._fail(server, "Ecs.0204", f"Failed to create the ECS [{server['id']}]: the build failed "
                                            f"(localcloud '{FAIL_BUILD_PREFIX}' name prefix).")
            return
        self._cancel_timers(server)
        now = self._now()
        server["creating"] = False
        self._set_status(server, "ACTIVE", now)
        server["launched_at"] = now
        sub_job = self._finish_sub_job(server, "SUCCESS", now)
        job = self.jobs.get(server["job_id"])
        from .views import server_view, sub_job_view

        self.backend.publish("ecs.server_created", project=self.project, server=server_view(self, server),
                             job=sub_job_view(sub_job) if sub_job else (job and dict(job)))

    def _fail(self, server: dict, code: str, reason: str) -> None:
        self._cancel_timers(server)
        now = self._now()
        server["creating"] = False
        self.vpc.delete_ports_of_device(server["id"])
        server["ports_built"] = False
        self._set_status(server, "ERROR", now)
        server["fault"] = {"code": 500, "message": reason, "details": code, "created": _iso(now)}
        self._finish_sub_job(server, "FAIL", now, code, reason)

    def _set_status(self, server: dict, status: str, now: float, task_state: str | None = None) -> None:
        vm_state, default_task, power_state = STATUS_STATES[status]
        server.update(status=status, vm_state=vm_state, power_state=power_state, updated=now,
                      task_state=default_task if task_state is None else task_state)
        if status != "ERROR":
            server["fault"] = None

    def poll_server(self, server_id: str) -> dict:
        """``show_server``: counts the poll; may end the BUILD of a server in poll mode."""
        server = self.get_server(server_id)
        if server["creating"] and server["build_polls"] > 0 and server["status"] == "BUILD":
            if server["polls_seen"] >= server["build_polls"]:
                self._activate(server)
            else:
                server["polls_seen"] += 1
        return server

    def force_status(self, server_id: str, status: str, task_state: str | None = None) -> dict:
        """Control API: set a server's status. Ends a pending creation (ACTIVE -> success, ERROR -> fail)."""
        server = self.get_server(server_id)
        if status not in STATUS_STATES:
            raise BadRequest("LocalCloud.Status", f"status must be one of {sorted(STATUS_STATES)}")
        if server["creating"] and status != "BUILD":
            if status == "ERROR":
                self._fail(server, "Ecs.0204", "Failed to create the ECS (forced to ERROR by the control API).")
                return server
            self._activate(server)  # creation completes: job SUCCESS and the event, then the forced status
            if server["status"] == "ERROR":
                return server
        self._set_status(server, status, self._now(), task_state)
        return server

    # ---- deletion --------------------------------------------------------------------------
    def delete_servers(self, server_ids: list[str]) -> dict:
        if not server_ids:
            raise BadRequest("Ecs.0005", "Invalid parameter: servers must not be empty.")
        for server_id in server_ids:
            self.get_server(server_id)
        now = self._now()
        job = self._new_job("deleteServers", now)
        for server_id in dict.fromkeys(server_ids):
            server = self.servers.pop(server_id)
            self._cancel_timers(server)
            if server["creating"]:
                server["creating"] = False
                self._finish_sub_job(server, "FAIL", now, "Ecs.0204", "The ECS was deleted during creation.")
            self.vpc.delete_ports_of_device(server_id)
            sub_job = self._new_sub_job(job, "deleteServer", server_id, now)
            sub_job.update(status="SUCCESS", end_time=now)
        self._refresh_job(job)
        return job

    # ---- tags --------------------------------------------------------------------------------
    def add_tags(self, server_id: str, tags: list[tuple[str, Any]]) -> None:
        server = self.get_server(server_id)
        for key, value in tags:
            self._check_tag(key, value)
        merged = dict(server["tags"])
        for key, value in tags:
            merged[key] = value
        if len(merged) > MAX_TAGS:
            raise BadRequest("Ecs.0005", f"Invalid parameter: at most {MAX_TAGS} tags can be added to an ECS.")
        server["tags"] = merged
        server["updated"] = self._now()

    def remove_tags(self, server_id: str, tags: list[tuple[str, Any]]) -> None:
        server = self.get_server(server_id)
        for key, _value in tags:
            if not isinstance(key, str) or not key:
                raise BadRequest("Ecs.0005", f"Invalid parameter: tag key [{key}] is invalid.")
        for key, _value in tags:
            server["tags"].pop(key, None)
        server["updated"] = self._now()

    # ---- listing -----------------------------------------------------------------------------
    def server_ips(self, server: dict) -> list[str]:
        return [fixed["ip_address"] for port in self.server_ports(server) for fixed in port.get("fixed_ips", [])]

    def list_servers(self, *, name: str | None = None, status: str | None = None, flavor: str | None = None,
                     ip: str | None = None, ip_eq: str | None = None, tags: str | None = None,
                     not_tags: str | None = None, enterprise_project_id: str | None = None,
                     reservation_id: str | None = None, server_ids: list[str] | None = None,
                     limit: int = 25, offset: int = 1, marker: str | None = None) -> tuple[int, list]:
        """Filters of ``GET /v1/{pid}/cloudservers/detail``; newest first.

        Returns ``(count, items)``; an item is a server record, or ``{"id", "missing": True}`` for
        an id of ``server_id`` that does not exist (the real API answers those with id and fault).
        """
        if limit < 1 or limit > 1000:
            raise BadRequest("Ecs.0005", "Invalid parameter: limit must be within 1..1000.")
        if offset < 0:
            raise BadRequest("Ecs.0005", "Invalid parameter: offset must be >= 0.")
        if server_ids:
            items = [self.servers.get(sid) or {"id": sid, "missing": True} for sid in server_ids]
            return len(items), items
        ordered = sorted(self.servers.values(), key=lambda s: s["seq"], reverse=True)
        if name:
            try:
                pattern = re.compile(name)
            except re.error:
                pattern = re.compile(re.escape(name))
            ordered = [s for s in ordered if pattern.search(s["name"])]
        if status:
            ordered = [s for s in ordered if s["status"] == status.upper()]
        if flavor:
            ordered = [s for s in ordered if s["flavor"]["id"] == flavor]
        if enterprise_project_id and enterprise_project_id != "all_granted_eps":
            ordered = [s for s in ordered if s["enterprise_project_id"] == enterprise_project_id]
        if reservation_id:
            ordered = [s for s in ordered if s["reservation_id"] == reservation_id]
        if tags:
            ordered = [s for s in ordered if _tag_matches(s["tags"], tags)]
        if not_tags:
            ordered = [s for s in ordered if not _tag_matches(s["tags"], not_tags)]
        if ip:
            ordered = [s for s in ordered if any(ip in address for address in self.server_ips(s))]
        if ip_eq:
            ordered = [s for s in ordered if ip_eq in self.server_ips(s)]
        count = len(ordered)
        if marker:
            ids = [s["id"] for s in ordered]
            if marker not in ids:
                raise BadRequest("Ecs.0005", f"Invalid parameter: marker [{marker}] not found.")
            return count, ordered[ids.index(marker) + 1:][:limit]
        page = max(offset, 1)
        return count, ordered[(page - 1) * limit:page * limit]

    # ---- jobs ----------------------------------------------------------------------------------
    def _new_job(self, job_type: str, now: float) -> dict:
        job = {"job_id": uuid.uuid4().hex, "job_type": job_type, "begin_time": now, "end_time": None,
               "status": "INIT", "error_code": None, "fail_reason": None, "sub_jobs": []}
        self.jobs[job["job_id"]] = job
        return job

    @staticmethod
    def _new_sub_job(job: dict, job_type: str, server_id: str, now: float) -> dict:
        sub_job = {"job_id": uuid.uuid4().hex, "job_type": job_type, "status": "INIT", "begin_time": now,
                   "end_time": None, "error_code": None, "fail_reason": None, "server_id": server_id}
        job["sub_jobs"].append(sub_job)
        return sub_job

    def _finish_sub_job(self, server: dict, status: str, now: float, code: str | None = None,
                        reason: str | None = None) -> dict | None:
        job = self.jobs.get(server.get("job_id") or "")
        if job is None:
            return None
        for sub_job in job["sub_jobs"]:
            if sub_job["job_id"] == server["sub_job_id"]:
                sub_job.update(status=status, end_time=now, error_code=code, fail_reason=reason)
                self._refresh_job(job)
                return sub_job
        return None

    def _refresh_job(self, job: dict | None) -> None:
        """A batch job's status follows its sub-jobs; INIT until the networking is built."""
        if job is None:
            return
        if job["job_type"] == "createServer":
            for sub_job in job["sub_jobs"]:
                if sub_job["status"] in ("INIT", "RUNNING"):
                    server = self.servers.get(sub_job["server_id"])
                    built = bool(server and server["ports_built"])
                    sub_job["status"] = "RUNNING" if built else "INIT"
        statuses = [sub_job["status"] for sub_job in job["sub_jobs"]]
        if any(status in ("INIT", "RUNNING") for status in statuses):
            job["status"] = "RUNNING" if any(status != "INIT" for status in statuses) else "INIT"
            job["end_time"] = None
            return
        failed = [sub_job for sub_job in job["sub_jobs"] if sub_job["status"] == "FAIL"]
        job["status"] = "FAIL" if failed else "SUCCESS"
        job["error_code"] = failed[0]["error_code"] if failed else None
        job["fail_reason"] = failed[0]["fail_reason"] if failed else None
        job["end_time"] = max((sub_job["end_time"] or job["begin_time"]) for sub_job in job["sub_jobs"]) \
            if job["sub_jobs"] else job["begin_time"]

    # ---- seed, dump, close --------------------------------------------------------------------
    def load_seed(self, project_doc: dict) -> dict:
        names: dict[str, str] = {}
        ports: dict[str, list[str]] = {}
        vpc = self.vpc
        for doc in project_doc.get("servers", []):
            if doc.get("id") and doc["id"] in self.servers:
                raise BadRequest("LocalCloud.InvalidSeed", f"server id {doc['id']} is used twice")
            nics = []
            for nic in doc["nics"]:
                ref = nic.get("subnet_id") or nic.get("subnet")
                if not ref:
                    raise BadRequest("LocalCloud.InvalidSeed", f"server {doc['name']}: a nic needs subnet or subnet_id")
                try:
                    subnet = vpc.subnet(ref)
                    groups = [vpc.resolve_security_group(g)["id"] for g in nic.get("security_groups", [])] \
                        or [vpc.default_security_group()["id"]]
                except CloudError as error:
                    raise BadRequest("LocalCloud.InvalidSeed", f"server {doc['name']}: {error.message}") from None
                nics.append({"subnet_id": subnet["id"], "vpc_id": subnet["vpc_id"],
                             "ip_address": nic.get("ip_address"), "security_groups": groups,
                             "port_id": nic.get("port_id"),
                             "port_security_enabled": nic.get("port_security_enabled", True)})
            flavor_id = doc.get("flavor", "s6.small.1")
            flavor = parse_flavor(flavor_id) or {"id": flavor_id, "name": flavor_id, "vcpus": "1", "ram": "1024",
                                                 "disk": "0"}
            now = self._now()
            server = self._new_server(
                server_id=doc.get("id"), name=doc["name"], flavor=flavor,
                image_id=DEFAULT_IMAGE_ID, vpc_id=nics[0]["vpc_id"],
                availability_zone=doc.get("availability_zone") or f"{self.backend.region}a", nics=nics,
                status=doc.get("status", "ACTIVE"), tags=doc.get("tags", {}), metadata=doc.get("metadata", {}),
                enterprise_project_id=doc.get("enterprise_project_id", "0"), key_name=None, description="",
                user_data=None, created=now, reservation_id="r-" + secrets.token_hex(4), launch_index=0,
            )
            self.servers[server["id"]] = server
            try:
                self._build_ports(server)
            except CloudError as error:
                self.servers.pop(server["id"], None)
                raise BadRequest("LocalCloud.InvalidSeed", f"server {doc['name']}: {error.message}") from None
            names[server["name"]] = server["id"]
            ports[server["name"]] = [port["id"] for port in self.server_ports(server)]
        return {"servers": names, "server_ports": ports}

    def to_dict(self) -> dict:
        servers = []
        for server in self.servers.values():
            servers.append({
                "id": server["id"], "name": server["name"], "status": server["status"],
                "task_state": server["task_state"], "flavor": server["flavor"]["id"], "vpc_id": server["vpc_id"],
                "availability_zone": server["availability_zone"], "tags": dict(server["tags"]),
                "metadata": dict(server["metadata"]), "enterprise_project_id": server["enterprise_project_id"],
                "ports": [port["id"] for port in self.server_ports(server)], "creating": server["creating"],
                "job_id": server["job_id"],
            })
        jobs = {job_id: {"job_type": job["job_type"], "status": job["status"],
                         "sub_jobs": [{"job_id": s["job_id"], "status": s["status"], "server_id": s["server_id"]}
                                      for s in job["sub_jobs"]]}
                for job_id, job in self.jobs.items()}
        return {"servers": servers, "jobs": jobs}

    def close(self) -> None:
        """Cancel every pending transition (``Backend.reset``); later timer callbacks do nothing."""
        self._closed = True
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()

    @property
    def pending_timers(self) -> int:
        return len(self._timers)


def _tag_matches(server_tags: dict[str, str], wanted: str) -> bool:
    """``tags=key=value`` matches that tag; ``tags=key`` matches any value of the key."""
    if "=" in wanted:
        key, value = wanted.split("=", 1)
        return server_tags.get(key) == value
    return wanted in server_tags


def iso(ts: float | None, millis: bool = False) -> str | None:
    return None if ts is None else _iso(ts, millis)


__all__ += ["iso"]
