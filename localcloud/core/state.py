"""Emulator state: projects, credentials, per-project service models, the request log.

State is kept per project (one emulator instance serves one region), as moto keeps it per
account and region. One re-entrant lock guards every model: handlers run under it, injected
latency and faults run outside it, so many client threads can be served at once.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

from .accounts import Directory

__all__ = [
    "Backend",
    "ProjectState",
    "Credential",
    "register_model",
    "DEFAULT_PROJECT_ID",
    "DEFAULT_AK",
    "DEFAULT_SK",
    "DEFAULT_REGION",
]

DEFAULT_REGION = "cn-north-4"
DEFAULT_PROJECT_ID = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
DEFAULT_AK = "LOCALCLOUDAKDEV0000000"
DEFAULT_SK = "localcloud-dev-secret-key-0000000000000000"

# name -> factory(project_state) ; services register their model classes on import.
_MODEL_FACTORIES: dict[str, Callable[[ProjectState], Any]] = {}


def register_model(name: str, factory: Callable[[ProjectState], Any]) -> None:
    _MODEL_FACTORIES[name] = factory


@dataclass
class Credential:
    ak: str
    sk: str
    project_id: str
    security_token: str | None = None  # set for temporary (agency) credentials: token required
    expires_at: float | None = None
    agency: str | None = None  # temporary credentials: the agency whose session they are (CTS trace user)
    # the account the AK belongs to: then every project of that account is open to it (IAM scopes an
    # AK to its account, not to a project); None: bound to ``project_id`` alone, as before accounts
    domain_id: str | None = None
    session_name: str | None = None  # an assumed agency's session (STS AssumeAgency)


class ProjectState:
    """Everything one project owns; service models are created on first use."""

    def __init__(self, project_id: str, backend: Backend, name: str | None = None):
        self.project_id = project_id
        self.name = name or f"{backend.region}_{project_id[:6]}"
        self.backend = backend
        self._models: dict[str, Any] = {}

    def service(self, name: str) -> Any:
        model = self._models.get(name)
        if model is None:
            model = _MODEL_FACTORIES[name](self)
            self._models[name] = model
        return model

    def close(self) -> None:
        """Stop the models' background work (pending timers); called by ``Backend.reset``."""
        for model in self._models.values():
            close = getattr(model, "close", None)
            if close:
                close()

    def to_dict(self) -> dict:
        for name in _MODEL_FACTORIES:
            self.service(name)
        return {
            "project_id": self.project_id,
            "name": self.name,
            **{name: model.to_dict() for name, model in sorted(self._models.items())},
        }


@dataclass
class Settings:
    build_delay_ms: int = 300  # how long a new server stays in BUILD
    build_polls: int = 0  # or: how many show_server polls it stays in BUILD (0 = time only)
    ports_delay_ms: int = 0  # ports appear this long after the server record (0 = with it)
    max_sgs_per_port: int = 100
    # FunctionGraph's trigger answers, for deploy tests: 1 = CTS operations answered ";"-joined per
    # Service:resource (the form Terraform documents); 1 = event_data answered with its required
    # fields only (Terraform warns that some fields are not returned; which ones is not documented)
    cts_operations_joined: int = 0
    terse_trigger_answers: int = 0
    # 1 = a finished creation is traced twice: createServer (ApiCall) and createSingleServer
    # (SystemAction), as the two editions of CTS "Example Traces" show it
    system_action_traces: int = 0
    # how a trace names an agency session (localcloud.services.vpc.traces): 0 SDK model, 1 older, 2 bare
    agency_trace_form: int = 0


class Backend:
    """The emulated cloud of one region."""

    def __init__(
        self, region: str = DEFAULT_REGION, clock: Callable[[], float] = time.time, directory: Directory | None = None
    ):
        self.region = region
        self.clock = clock
        self.lock = threading.RLock()
        self.settings = Settings()
        self.projects: dict[str, ProjectState] = {}
        # accounts, their projects, agencies and AKs: global, shared by every region's backend
        self.directory = directory or Directory()
        self.directory.backends[region] = self  # the latest server of a region answers for it
        self.credentials: dict[str, Credential] = self.directory.credentials
        self.request_log: deque[dict] = deque(maxlen=200_000)
        self._log_lock = threading.Lock()
        self._seq = 0
        self.listeners: dict[str, list[Callable[..., None]]] = {}

    # ---- projects and credentials -------------------------------------------------------
    @overload
    def project(self, project_id: str, *, create: Literal[True]) -> ProjectState: ...

    @overload
    def project(self, project_id: str, *, create: bool = False) -> ProjectState | None: ...

    def project(self, project_id: str, *, create: bool = False) -> ProjectState | None:
        with self.lock:
            state = self.projects.get(project_id)
            if state is None and create:
                state = ProjectState(project_id, self)
                self.projects[project_id] = state
            return state

    def projects_matching(self, project_id: str | None = None) -> list[tuple[str, ProjectState]]:
        """(id, state) of every project, or of the one asked for; in id order (control API listings)."""
        with self.lock:
            return [(pid, state) for pid, state in sorted(self.projects.items()) if not project_id or pid == project_id]

    def add_credential(
        self,
        ak: str,
        sk: str,
        project_id: str,
        security_token: str | None = None,
        expires_at: float | None = None,
        domain_id: str | None = None,
    ) -> Credential:
        credential = Credential(ak, sk, project_id, security_token, expires_at, domain_id=domain_id)
        with self.lock:
            if project_id:
                self.project(project_id, create=True)
            self.credentials[ak] = credential
        return credential

    def issue_temporary_credential(
        self, project_id: str, ttl_s: int = 3600, agency: str | None = "sgguard-functions"
    ) -> Credential:
        """Temporary AK/SK/token, as FunctionGraph hands a function through its agency."""
        ak = "TMP" + secrets.token_hex(10).upper()
        credential = self.add_credential(
            ak,
            secrets.token_urlsafe(30),
            project_id,
            security_token=secrets.token_urlsafe(48),
            expires_at=self.clock() + ttl_s,
        )
        credential.agency = agency
        return credential

    def credential(self, ak: str) -> Credential | None:
        with self.lock:
            credential = self.credentials.get(ak)
        if credential and credential.expires_at is not None and credential.expires_at < self.clock():
            return None
        return credential

    # ---- events between services (e.g. a finished server creation -> CTS trace) ----------
    def subscribe(self, topic: str, listener: Callable[..., None]) -> None:
        self.listeners.setdefault(topic, []).append(listener)

    def publish(self, topic: str, **payload: Any) -> None:
        for listener in list(self.listeners.get(topic, ())):
            listener(**payload)

    # ---- request log ------------------------------------------------------------------------
    def log_request(self, entry: dict) -> None:
        with self._log_lock:
            self._seq += 1
            entry["seq"] = self._seq
            self.request_log.append(entry)

    def requests(self, since: int = 0) -> list[dict]:
        with self._log_lock:
            return [entry for entry in self.request_log if entry["seq"] > since]

    # ---- reset and snapshot -------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            for state in self.projects.values():
                state.close()
            self.projects.clear()
            self.directory.clear()
            self.settings = Settings()
            for topic_listeners in self.listeners.values():
                for listener in topic_listeners:
                    reset = getattr(listener, "reset", None)
                    if reset:
                        reset()
        with self._log_lock:
            self.request_log.clear()

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "region": self.region,
                "settings": vars(self.settings).copy(),
                "projects": {pid: state.to_dict() for pid, state in sorted(self.projects.items())},
            }


def new_id() -> str:
    return str(uuid.uuid4())


def new_request_id() -> str:
    return uuid.uuid4().hex


__all__ += ["Settings", "new_id", "new_request_id"]
