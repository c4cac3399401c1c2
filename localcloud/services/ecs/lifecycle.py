"""The life of an ECS server, from BUILD to ACTIVE or ERROR (mixed into ``EcsModel``).

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

Timers take the backend lock, check the server is still the same object, and are cancelled by
``EcsModel.close`` (called by ``Backend.reset``). A failure is a typed error of :mod:`.errors`
(its code and message become the fault and the job's ``error_code`` / ``fail_reason``).

Here: the statuses (:data:`STATUS_STATES`), the port and build timers, the transitions and the
``ecs.server_created`` publication. The API-facing entry points (``create_servers``,
``poll_server``, ``force_status``, ``delete_servers``) are in :mod:`.models`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from localcloud.core.errors import CloudError
from localcloud.core.timefmt import iso_seconds

from . import errors
from .jobs import JobsMixin
from .views import server_view, sub_job_view

if TYPE_CHECKING:
    from localcloud.core.state import Backend, ProjectState
    from localcloud.services.vpc.models import VpcModel

__all__ = ["LifecycleMixin", "STATUS_STATES", "FAIL_BUILD_PREFIX"]

FAIL_BUILD_PREFIX = "fail-build"

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


class LifecycleMixin(JobsMixin):
    """Needs what ``EcsModel`` sets up and provides, declared below (and the job methods of
    :mod:`.jobs`); the views it publishes read it through :class:`.views.EcsReader`."""

    project: ProjectState
    backend: Backend
    _timers: set[threading.Timer]
    _closed: bool

    if TYPE_CHECKING:  # provided by EcsModel (models.py)

        @property
        def vpc(self) -> VpcModel: ...

        def _now(self) -> float: ...

        def server_ports(self, server: dict[str, Any]) -> list[dict[str, Any]]: ...

        def port_vpc_id(self, port: dict[str, Any], default: str | None = None) -> str | None: ...

        def server_security_groups(
            self, server: dict[str, Any], ports: list[dict[str, Any]] | None = None
        ) -> list[dict[str, Any]]: ...

    # ---- transitions ------------------------------------------------------------------------
    def _build_ports(self, server: dict) -> None:
        """Create the server's ports through the VPC model (all or none)."""
        if server["ports_built"]:
            return
        vpc = self.vpc
        try:
            for nic in server["nics"]:
                vpc.create_port(
                    subnet_id=nic["subnet_id"],
                    device_id=server["id"],
                    device_owner=f"compute:{server['availability_zone']}",
                    security_group_ids=list(nic["security_groups"]),
                    ip_address=nic.get("ip_address"),
                    port_id=nic.get("port_id"),
                    port_security_enabled=nic.get("port_security_enabled", True),
                    name="",
                    enterprise_project_id=server.get("enterprise_project_id") or "0",
                )
        except CloudError:
            vpc.delete_ports_of_device(server["id"])
            raise
        server["ports_built"] = True
        if server["job_id"]:
            self._refresh_job(self.jobs.get(server["job_id"]))

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
                    self._fail(server, errors.from_port_error(error))
            elif kind == "build":
                self._activate(server)

    def _activate(self, server: dict) -> None:
        """End of BUILD: ACTIVE (job SUCCESS, event) or, for the failure hook, ERROR (job FAIL)."""
        if not server["creating"]:
            return
        try:
            self._build_ports(server)
        except CloudError as error:
            self._fail(server, errors.from_port_error(error))
            return
        if server["name"].startswith(FAIL_BUILD_PREFIX):
            self._fail(
                server,
                errors.build_failed(
                    f"Failed to create the ECS [{server['id']}]: the build failed "
                    f"(localcloud '{FAIL_BUILD_PREFIX}' name prefix)."
                ),
            )
            return
        self._cancel_timers(server)
        now = self._now()
        server["creating"] = False
        self._set_status(server, "ACTIVE", now)
        server["launched_at"] = now
        sub_job = self._finish_sub_job(server, "SUCCESS", now)
        job = self.jobs.get(server["job_id"])
        self.backend.publish(
            "ecs.server_created",
            project=self.project,
            server=server_view(self, server),
            job=sub_job_view(sub_job) if sub_job else (job and dict(job)),
        )

    def _fail(self, server: dict, error: CloudError) -> None:
        """End a creation in ERROR: ports rolled back, ``error`` as the fault and the sub-job's failure."""
        code, reason = error.code, error.message
        self._cancel_timers(server)
        now = self._now()
        server["creating"] = False
        self.vpc.delete_ports_of_device(server["id"])
        server["ports_built"] = False
        self._set_status(server, "ERROR", now)
        server["fault"] = {"code": 500, "message": reason, "details": code, "created": iso_seconds(now)}
        self._finish_sub_job(server, "FAIL", now, code, reason)

    def _set_status(self, server: dict, status: str, now: float, task_state: str | None = None) -> None:
        vm_state, default_task, power_state = STATUS_STATES[status]
        server.update(
            status=status,
            vm_state=vm_state,
            power_state=power_state,
            updated=now,
            task_state=default_task if task_state is None else task_state,
        )
        if status != "ERROR":
            server["fault"] = None
