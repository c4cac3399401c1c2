"""ECS state of one project: servers, their creation / deletion jobs and their tags.

Servers own no network state: every NIC is a VPC port (``project.service("vpc")``), created with
``device_id`` = the server id and ``device_owner`` = ``compute:<az>``; addresses, interfaces and
the server-wide security-group list are read from those ports at read time, so a change made
through the VPC API (v2 ``update_port``, v3 insert / remove security groups) shows in ECS at once.

:class:`EcsModel` holds the state and the methods the routes and the control API call; the rest
is split by concern, as the VPC model is:

* :mod:`.validation`: create requests (``ServerRequest``, ``NicRequest``, flavor names) and their
  synchronous validation;
* :mod:`.lifecycle`: a server's life from BUILD to ACTIVE or ERROR (port and build timers, state
  transitions, the ``ecs.server_created`` publication), described there in full;
* :mod:`.jobs`: the job records and how a batch job's status follows its sub-jobs;
* :mod:`.seeding`: servers from a seed document (no job, no timer, no event).

The names other modules import from here (``ServerRequest``, ``NicRequest``, ``parse_flavor``,
``STATUS_STATES``, ``FAIL_BUILD_PREFIX``) are re-exported.

Over 400 lines: the ECS service's state and invariants in one place, as moto's models.py.
"""

from __future__ import annotations

import re
import secrets
import threading
import uuid
from typing import TYPE_CHECKING, Any

from localcloud.core.errors import CloudError

from . import errors
from .jobs import JobsMixin
from .lifecycle import FAIL_BUILD_PREFIX, STATUS_STATES, LifecycleMixin
from .validation import MAX_TAGS, NicRequest, ServerRequest, check_tag, parse_flavor, validate_request

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = ["EcsModel", "ServerRequest", "NicRequest", "parse_flavor", "STATUS_STATES", "FAIL_BUILD_PREFIX"]


class EcsModel(LifecycleMixin, JobsMixin):
    def __init__(self, project: ProjectState) -> None:
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
            raise errors.server_not_found(server_id)
        return server

    def get_job(self, job_id: str) -> dict:
        job = self.jobs.get(job_id)
        if job is None:
            raise errors.job_not_found(job_id)
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
        sources = (
            [port.get("security_groups") or [] for port in ports]
            if ports
            else [nic["security_groups"] for nic in server["nics"]]
        )
        for group_ids in sources:
            for sg_id in group_ids:
                if sg_id not in ids:
                    ids.append(sg_id)
        return [{"id": sg_id, "name": self.security_group_name(sg_id)} for sg_id in ids]

    # ---- creation -------------------------------------------------------------------------
    def create_servers(
        self, request: ServerRequest, *, dry_run: bool = False, client_token: str | None = None
    ) -> dict | None:
        """Validate, then record the servers and their job. Returns ``{"job_id", "server_ids"}``."""
        if client_token and client_token in self._client_tokens:
            return self._client_tokens[client_token]
        plan = validate_request(self, request)
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
                name=name,
                flavor=plan["flavor"],
                image_id=plan["image_id"],
                vpc_id=plan["vpc_id"],
                availability_zone=plan["availability_zone"],
                nics=plan["nics"],
                status="BUILD",
                tags=dict(request.tags),
                metadata=dict(request.metadata),
                enterprise_project_id=plan["enterprise_project_id"],
                key_name=request.key_name,
                description=request.description,
                user_data=request.user_data,
                created=now,
                reservation_id=reservation_id,
                launch_index=index,
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
                raise errors.from_port_error(error) from None
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

    def _new_server(
        self,
        *,
        name,
        flavor,
        image_id,
        vpc_id,
        availability_zone,
        nics,
        status,
        tags,
        metadata,
        enterprise_project_id,
        key_name,
        description,
        user_data,
        created,
        reservation_id,
        launch_index,
        server_id=None,
    ) -> dict:
        self._seq += 1
        server_id = server_id or str(uuid.uuid4())
        vm_state, task_state, power_state = STATUS_STATES.get(status, STATUS_STATES["ACTIVE"])
        return {
            "id": server_id,
            "name": name,
            "seq": self._seq,
            "status": status,
            "vm_state": vm_state,
            "task_state": task_state,
            "power_state": power_state,
            "flavor": dict(flavor),
            "image_id": image_id,
            "vpc_id": vpc_id,
            "availability_zone": availability_zone,
            "nics": [dict(nic) for nic in nics],
            "tags": dict(tags),
            "metadata": dict(metadata),
            "enterprise_project_id": enterprise_project_id,
            "key_name": key_name,
            "description": description or "",
            "user_data": user_data,
            "created": created,
            "updated": created,
            "launched_at": created if status != "BUILD" else None,
            "reservation_id": reservation_id,
            "launch_index": launch_index,
            "instance_name": f"instance-{self._seq:08x}",
            "host_id": secrets.token_hex(28),
            "root_volume_id": str(uuid.uuid4()),
            "fault": None,
            "ports_built": False,
            "job_id": None,
            "sub_job_id": None,
            "creating": False,
            "polls_seen": 0,
            "build_polls": 0,
            "timers": {},
        }

    # ---- status ------------------------------------------------------------------------------
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
            raise errors.status_invalid(f"status must be one of {sorted(STATUS_STATES)}")
        if server["creating"] and status != "BUILD":
            if status == "ERROR":
                self._fail(
                    server, errors.build_failed("Failed to create the ECS (forced to ERROR by the control API).")
                )
                return server
            self._activate(server)  # creation completes: job SUCCESS and the event, then the forced status
            if server["status"] == "ERROR":
                return server
        self._set_status(server, status, self._now(), task_state)
        return server

    # ---- deletion --------------------------------------------------------------------------
    def delete_servers(self, server_ids: list[str]) -> dict:
        if not server_ids:
            raise errors.invalid_parameter("servers must not be empty.")
        for server_id in server_ids:
            self.get_server(server_id)
        now = self._now()
        job = self._new_job("deleteServers", now)
        for server_id in dict.fromkeys(server_ids):
            server = self.servers.pop(server_id)
            self._cancel_timers(server)
            if server["creating"]:
                server["creating"] = False
                failure = errors.deleted_during_creation()
                self._finish_sub_job(server, "FAIL", now, failure.code, failure.message)
            self.vpc.delete_ports_of_device(server_id)
            sub_job = self._new_sub_job(job, "deleteServer", server_id, now)
            sub_job.update(status="SUCCESS", end_time=now)
        self._refresh_job(job)
        return job

    # ---- tags --------------------------------------------------------------------------------
    def add_tags(self, server_id: str, tags: list[tuple[Any, Any]]) -> None:
        server = self.get_server(server_id)
        for key, value in tags:
            check_tag(key, value)
        merged = dict(server["tags"])
        for key, value in tags:
            merged[key] = value
        if len(merged) > MAX_TAGS:
            raise errors.invalid_parameter(f"at most {MAX_TAGS} tags can be added to an ECS.")
        server["tags"] = merged
        server["updated"] = self._now()

    def remove_tags(self, server_id: str, tags: list[tuple[Any, Any]]) -> None:
        server = self.get_server(server_id)
        for key, _value in tags:
            if not isinstance(key, str) or not key:
                raise errors.invalid_parameter(f"tag key [{key}] is invalid.")
        for key, _value in tags:
            server["tags"].pop(key, None)
        server["updated"] = self._now()

    # ---- listing -----------------------------------------------------------------------------
    def server_ips(self, server: dict) -> list[str]:
        return [fixed["ip_address"] for port in self.server_ports(server) for fixed in port.get("fixed_ips", [])]

    def list_servers(
        self,
        *,
        name: str | None = None,
        status: str | None = None,
        flavor: str | None = None,
        ip: str | None = None,
        ip_eq: str | None = None,
        tags: str | None = None,
        not_tags: str | None = None,
        enterprise_project_id: str | None = None,
        reservation_id: str | None = None,
        server_ids: list[str] | None = None,
        limit: int = 25,
        offset: int = 1,
        marker: str | None = None,
    ) -> tuple[int, list]:
        """Filters of ``GET /v1/{pid}/cloudservers/detail``; newest first.

        Returns ``(count, items)``; an item is a server record, or ``{"id", "missing": True}`` for
        an id of ``server_id`` that does not exist (the real API answers those with id and fault).
        """
        if limit < 1 or limit > 1000:
            raise errors.invalid_parameter("limit must be within 1..1000.")
        if offset < 0:
            raise errors.invalid_parameter("offset must be >= 0.")
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
                raise errors.invalid_parameter(f"marker [{marker}] not found.")
            return count, ordered[ids.index(marker) + 1 :][:limit]
        page = max(offset, 1)
        return count, ordered[(page - 1) * limit : page * limit]

    # ---- seed, dump, close --------------------------------------------------------------------
    def load_seed(self, project_doc: dict) -> dict:
        from .seeding import load_ecs_seed

        return load_ecs_seed(self, project_doc)

    def to_dict(self) -> dict:
        servers = []
        for server in self.servers.values():
            servers.append(
                {
                    "id": server["id"],
                    "name": server["name"],
                    "status": server["status"],
                    "task_state": server["task_state"],
                    "flavor": server["flavor"]["id"],
                    "vpc_id": server["vpc_id"],
                    "availability_zone": server["availability_zone"],
                    "tags": dict(server["tags"]),
                    "metadata": dict(server["metadata"]),
                    "enterprise_project_id": server["enterprise_project_id"],
                    "ports": [port["id"] for port in self.server_ports(server)],
                    "creating": server["creating"],
                    "job_id": server["job_id"],
                }
            )
        jobs = {
            job_id: {
                "job_type": job["job_type"],
                "status": job["status"],
                "sub_jobs": [
                    {"job_id": s["job_id"], "status": s["status"], "server_id": s["server_id"]} for s in job["sub_jobs"]
                ],
            }
            for job_id, job in self.jobs.items()
        }
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
