"""FunctionGraph state of one project: functions (config + code zip), triggers, async invoke
configs, private dependencies, and the invocations received.

What is kept per function is what a local runtime needs to run it later: the configuration, the
code zip's bytes (``code``) with its ``sha256`` and the API's ``digest`` (SHA-512 of the zip, as
the API documents ``digest``), the triggers with their ``event_data``, the async invoke config and
every invocation received (``invocations``, newest last, bounded).

Running code is not this module's job. A runtime plugs in with :meth:`FunctionGraphModel.register_invoker`
(one model) or :func:`register_invoker` (every project of a backend, surviving ``reset``): the
invoker is called *outside* the state lock as ``invoker(invocation)`` with an :class:`Invocation`;
for a synchronous call its return value (a dict ``{"status", "result", "log"}`` or ``None``) is the
answer; for an asynchronous one it runs in its own thread and its return value is ignored. With no
invoker, an invocation is recorded and answered with an empty result.

Over 400 lines: the FunctionGraph service's state and invariants in one place, as moto's models.py.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localcloud.core.timefmt import iso_seconds

from . import errors
from . import validation as v

__all__ = ["FunctionGraphModel", "Function", "Invocation", "register_invoker", "function_urn", "MAX_INVOCATIONS"]

MAX_INVOCATIONS = 1000  # kept per function (oldest dropped)
_BACKEND_INVOKER_ATTR = "_functiongraph_invoker"


def _now() -> str:
    # The SDK parses datetimes as ``value + "Z"`` unless they end with Z: an offset would not parse.
    return iso_seconds(time.time())


_SEQUENCE = itertools.count(1)


def function_urn(region: str, project_id: str, package: str, name: str, version: str = "latest") -> str:
    return f"urn:fss:{region}:{project_id}:function:{package}:{name}:{version}"


def register_invoker(backend: Any, invoker: Callable[[Invocation], Any] | None) -> None:
    """Install ``invoker`` for every project of ``backend`` (kept across ``Backend.reset``)."""
    setattr(backend, _BACKEND_INVOKER_ATTR, invoker)


@dataclass
class Function:
    name: str
    package: str
    runtime: str
    handler: str
    memory_size: int
    timeout: int
    urn: str
    code_type: str
    code: bytes = field(repr=False)
    code_filename: str = "index.zip"
    user_data: str = ""
    encrypted_user_data: str = field(default="", repr=False)
    xrole: str = ""
    app_xrole: str = ""
    description: str = ""
    initializer_handler: str = ""
    initializer_timeout: int = 0
    strategy_config: dict = field(default_factory=lambda: {"concurrency": -1, "concurrent_num": 1})
    depend_version_list: list = field(default_factory=list)
    func_vpc: dict | None = None  # {"vpc_id", "subnet_id"}: VPC access (stored and shown, not emulated)
    func_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: str = field(default_factory=_now)
    last_modified: str = field(default_factory=_now)
    triggers: dict = field(default_factory=dict)  # trigger_id -> trigger dict
    async_config: dict | None = None
    invocations: list = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.code).hexdigest()

    @property
    def digest(self) -> str:
        return hashlib.sha512(self.code).hexdigest()

    def user_data_dict(self, encrypted: bool = False) -> dict:
        raw = self.encrypted_user_data if encrypted else self.user_data
        return json.loads(raw) if raw else {}


@dataclass
class Invocation:
    """One invocation as a runtime receives it (``mode`` is ``sync`` or ``async``)."""

    request_id: str
    mode: str
    function: Function
    payload: Any
    project_id: str
    source: str = "api"  # "api", or the trigger that fired it, e.g. "trigger:SMN:<trigger_id>"
    received_at: str = field(default_factory=_now)
    seq: int = field(default_factory=lambda: next(_SEQUENCE))  # order of arrival across functions

    def record(self) -> dict:
        return {
            "seq": self.seq,
            "request_id": self.request_id,
            "mode": self.mode,
            "source": self.source,
            "received_at": self.received_at,
            "payload": self.payload,
        }


class FunctionGraphModel:
    def __init__(self, project: Any):
        self.project = project
        self.backend = project.backend
        self.functions: dict[str, Function] = {}  # name -> function (package "default" and others)
        self.dependencies: dict[str, dict] = {}  # dependency id -> {"name", "runtime", "versions": [..]}
        self._invoker: Callable[[Invocation], Any] | None = None

    # ---- functions -------------------------------------------------------------------------
    def urn_for(self, package: str, name: str) -> str:
        return function_urn(self.backend.region, self.project.project_id, package, name)

    def resolve(self, urn: str) -> Function:
        """The function a URN names (``...:name`` or ``...:name:latest``); 404 FSS.1051 otherwise."""
        parts = urn.split(":")
        if len(parts) in (7, 8) and parts[:2] == ["urn", "fss"] and parts[4] == "function":
            region, project_id, package, name = parts[2], parts[3], parts[5], parts[6]
            version = parts[7] if len(parts) == 8 else "latest"
            function = self.functions.get(name)
            if (
                function
                and region == self.backend.region
                and project_id == self.project.project_id
                and package == function.package
                and version == "latest"
            ):
                return function
        raise errors.function_not_found()

    def create_function(self, body: dict) -> Function:
        name = v.check_name(body.get("func_name"))
        package = body.get("package")
        if not isinstance(package, str) or not package:
            raise v.bad("Invalid package: required (the application the function belongs to, e.g. default).")
        runtime = v.check_runtime(body.get("runtime"))
        handler = v.check_handler(body.get("handler"), runtime)
        memory = v.check_memory(body)
        timeout = v.check_timeout(body)
        code_type, code = v.decode_code(body)
        if name in self.functions:
            raise errors.function_exists(name)
        function = Function(
            name=name,
            package=package,
            runtime=runtime,
            handler=handler,
            memory_size=memory,
            timeout=timeout,
            urn=self.urn_for(package, name),
            code_type=code_type,
            code=code,
            code_filename=str(body.get("code_filename") or "index.zip"),
        )
        self._apply_optional(function, body)
        self.functions[name] = function
        return function

    def _apply_optional(self, function: Function, body: dict) -> None:
        if "user_data" in body:
            function.user_data = v.check_user_data(body.get("user_data"))
        if "encrypted_user_data" in body:
            function.encrypted_user_data = v.check_user_data(body.get("encrypted_user_data"), "encrypted_user_data")
        for name in ("xrole", "app_xrole", "description"):
            if name in body:
                value = body.get(name) or ""
                if not isinstance(value, str):
                    raise v.bad(f"Invalid {name}: must be a string.")
                setattr(function, name, value)
        if body.get("initializer_handler"):
            function.initializer_handler = v.check_handler(
                body["initializer_handler"], function.runtime, "initializer_handler"
            )
            function.initializer_timeout = v.check_timeout(body, None, "initializer_timeout", 1, 300)
        elif "initializer_handler" in body:
            function.initializer_handler, function.initializer_timeout = "", 0
        if "depend_version_list" in body:
            function.depend_version_list = self._check_depend_versions(body.get("depend_version_list"))
        if body.get("strategy_config") is not None:
            function.strategy_config = v.check_strategy(body["strategy_config"])
        if body.get("func_vpc") is not None:
            vpc = body["func_vpc"]
            if not isinstance(vpc, dict) or not all(
                isinstance(vpc.get(k), str) and vpc.get(k) for k in ("vpc_id", "subnet_id")
            ):
                raise v.bad("Invalid func_vpc: vpc_id and subnet_id are required.")
            function.func_vpc = {k: vpc[k] for k in ("vpc_id", "subnet_id")}

    def update_config(self, function: Function, body: dict) -> Function:
        if body.get("func_name", function.name) != function.name:
            raise v.bad("Invalid func_name: a function cannot be renamed.")
        runtime = v.check_runtime(body.get("runtime", function.runtime))
        handler = v.check_handler(body.get("handler", function.handler), runtime)
        memory = v.check_memory(body, function.memory_size)
        timeout = v.check_timeout(body, function.timeout)
        function.runtime, function.handler, function.memory_size, function.timeout = runtime, handler, memory, timeout
        self._apply_optional(function, body)
        function.last_modified = _now()
        return function

    def update_code(self, function: Function, body: dict) -> Function:
        code_type, code = v.decode_code(body)
        function.code_type, function.code = code_type, code
        if body.get("code_filename"):
            function.code_filename = str(body["code_filename"])
        if "depend_version_list" in body:
            function.depend_version_list = self._check_depend_versions(body.get("depend_version_list"))
        function.last_modified = _now()
        return function

    def delete_function(self, function: Function) -> None:
        del self.functions[function.name]

    def list_functions(self, package: str | None = None, name: str | None = None) -> list[Function]:
        return [
            f
            for f in sorted(self.functions.values(), key=lambda f: f.created + f.name)
            if (not package or f.package == package) and (not name or name in f.name)
        ]

    # ---- triggers ----------------------------------------------------------------------------
    def create_trigger(self, function: Function, body: dict) -> dict:
        kind, status, data = v.check_trigger(body)
        if kind == "CTS":  # the documented quota: 10 CTS triggers per project
            count = sum(
                1 for f in self.functions.values() for t in f.triggers.values() if t["trigger_type_code"] == "CTS"
            )
            if count >= 10:
                raise errors.trigger_quota()
        for trigger in function.triggers.values():
            if trigger["trigger_type_code"] == kind and trigger["event_data"] == data:
                raise errors.trigger_exists()
        now = _now()
        trigger_id = str(uuid.uuid4())
        trigger = {
            "trigger_id": trigger_id,
            "trigger_type_code": kind,
            "trigger_status": status,
            "event_type_code": body.get("event_type_code") or "",
            "event_data": dict(data),
            "created_time": now,
            "last_updated_time": now,
        }
        function.triggers[trigger_id] = trigger
        return trigger

    def trigger(self, function: Function, kind: str, trigger_id: str) -> dict:
        trigger = function.triggers.get(trigger_id)
        if trigger is None or trigger["trigger_type_code"] != kind:
            raise errors.trigger_not_found(trigger_id)
        return trigger

    def update_trigger(self, function: Function, kind: str, trigger_id: str, body: dict) -> dict:
        """UpdateTrigger: only ``trigger_status`` is emulated (ACTIVE / DISABLED); the SDK model's
        ``event_data`` list (``UpdateriggerEventData``) is not documented enough to emulate."""
        trigger = self.trigger(function, kind, trigger_id)
        status = body.get("trigger_status") if isinstance(body, dict) else None
        if status not in ("ACTIVE", "DISABLED"):
            raise errors.invalid("trigger_status must be ACTIVE or DISABLED")
        trigger.update(trigger_status=status, last_updated_time=_now())
        return trigger

    def delete_trigger(self, function: Function, kind: str, trigger_id: str) -> None:
        self.trigger(function, kind, trigger_id)
        del function.triggers[trigger_id]

    def functions_with_trigger(self, kind: str, active_only: bool = True) -> list[tuple[Function, dict]]:
        """``(function, trigger)`` pairs for a trigger type (for services that fire triggers)."""
        return [
            (f, t)
            for f in self.functions.values()
            for t in f.triggers.values()
            if t["trigger_type_code"] == kind and (not active_only or t["trigger_status"] == "ACTIVE")
        ]

    # ---- async invoke config -----------------------------------------------------------------
    def update_async_config(self, function: Function, body: dict) -> dict:
        config = v.check_async_config(body)
        now = _now()
        created = function.async_config["created_time"] if function.async_config else now
        function.async_config = {**config, "created_time": created, "last_modified": now}
        return function.async_config

    # ---- dependencies ------------------------------------------------------------------------
    def create_dependency_version(self, body: dict) -> dict:
        name = v.check_name(body.get("name"), "name")
        runtime = v.check_runtime(body.get("runtime"))
        raw = v.check_depend_file(body)
        description = body.get("description") or ""
        if not isinstance(description, str) or len(description) > 512:
            raise v.bad("Invalid description: a string of at most 512 characters.")
        dependency = next((d for d in self.dependencies.values() if d["name"] == name), None)
        if dependency is None:
            dependency = {"id": str(uuid.uuid4()), "name": name, "runtime": runtime, "versions": []}
            self.dependencies[dependency["id"]] = dependency
        if runtime != dependency["runtime"]:
            raise v.bad(f"Invalid runtime: the dependency {name} is for {dependency['runtime']}.")
        version = {
            "id": str(uuid.uuid4()),
            "dep_id": dependency["id"],
            "owner": self.project.project_id,
            "link": f"https://localcloud/fgs/dependencies/{dependency['id']}/{len(dependency['versions']) + 1}",
            "runtime": runtime,
            "etag": hashlib.md5(raw).hexdigest(),
            "size": len(raw),
            "name": name,
            "description": description,
            "file_name": f"{name}.zip",
            "version": len(dependency["versions"]) + 1,
            "last_modified": int(time.time() * 1000),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "content": raw,
        }
        dependency["versions"].append(version)
        return version

    def dependency(self, depend_id: str) -> dict:
        if depend_id not in self.dependencies:
            raise errors.dependency_not_found(depend_id)
        return self.dependencies[depend_id]

    def dependency_version(self, version_id: str) -> dict | None:
        for dependency in self.dependencies.values():
            for version in dependency["versions"]:
                if version["id"] == version_id:
                    return version
        return None

    def _check_depend_versions(self, value: Any) -> list:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise v.bad("Invalid depend_version_list: a list of dependency version ids.")
        unknown = [item for item in value if self.dependency_version(item) is None]
        if unknown:
            raise v.bad(f"Invalid depend_version_list: unknown dependency versions {unknown}.")
        return list(value)

    # ---- invocations ---------------------------------------------------------------------------
    def register_invoker(self, invoker: Callable[[Invocation], Any] | None) -> None:
        """Run this project's invocations with ``invoker`` (see the module doc)."""
        self._invoker = invoker

    @property
    def invoker(self) -> Callable[[Invocation], Any] | None:
        return self._invoker or getattr(self.backend, _BACKEND_INVOKER_ATTR, None)

    def receive(self, function: Function, payload: Any, mode: str, source: str = "api") -> Invocation:
        """Record an invocation (under the state lock) and return it for dispatch."""
        invocation = Invocation(
            request_id=str(uuid.uuid4()),
            mode=mode,
            function=function,
            payload=payload,
            project_id=self.project.project_id,
            source=source,
        )
        function.invocations.append(invocation.record())
        del function.invocations[:-MAX_INVOCATIONS]
        return invocation

    def dispatch_async(self, invocation: Invocation) -> None:
        """Hand an async invocation to the invoker in its own thread (never under the lock)."""
        invoker = self.invoker
        if invoker is not None:
            threading.Thread(
                target=invoker, args=(invocation,), name=f"fgs-{invocation.request_id[:8]}", daemon=True
            ).start()

    def invoke_async(self, function: Function, payload: Any, source: str) -> Invocation:
        """For services that fire triggers (SMN, CTS, Kafka...): record and dispatch asynchronously."""
        invocation = self.receive(function, payload, "async", source)
        self.dispatch_async(invocation)
        return invocation

    # ---- snapshot ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        functions = {}
        for function in self.functions.values():
            functions[function.name] = {
                "func_urn": function.urn,
                "package": function.package,
                "runtime": function.runtime,
                "handler": function.handler,
                "memory_size": function.memory_size,
                "timeout": function.timeout,
                "xrole": function.xrole,
                "code_type": function.code_type,
                "code_size": len(function.code),
                "sha256": function.sha256,
                "digest": function.digest,
                "user_data": function.user_data_dict(),
                "encrypted_user_data_keys": sorted(function.user_data_dict(encrypted=True)),
                "initializer_handler": function.initializer_handler,
                "strategy_config": function.strategy_config,
                "func_vpc": function.func_vpc,
                "depend_version_list": list(function.depend_version_list),
                "triggers": [dict(t) for t in function.triggers.values()],
                "async_invoke_config": dict(function.async_config) if function.async_config else None,
                "invocations": list(function.invocations),
            }
        dependencies = {
            d["name"]: [{k: val for k, val in version.items() if k != "content"} for version in d["versions"]]
            for d in self.dependencies.values()
        }
        return {"functions": functions, "dependencies": dependencies}
