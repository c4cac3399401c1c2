"""Compare template.yaml with what is deployed and list the changes; apply them.

Only reads happen while planning. A function is looked up by its URN (``show_function_config``;
404 = to create). Then, each compared on what the API returns:

* code: the zip's SHA-512 against ``show_function_code``'s ``digest`` (documented as the SHA-512
  of the code), and the dependency versions against its ``depend_version_list``;
* configuration: runtime, handler, memory, timeout, agency, description, initializer,
  ``strategy_config`` and ``user_data`` (as parsed JSON; ``PROJECT_ID`` is added: the project
  deployed into). Encrypted values are never read back:
  user data key ``SGGUARD_SECRETS_DIGEST`` carries a salted PBKDF2 of them, so a changed secret
  shows as a changed digest without the secret being comparable or recoverable;
* triggers: a deployed trigger matches a template trigger of the same type and status whose
  ``event_data`` fields all equal the deployed ones — passwords and any field the API leaves out
  excepted (nothing to compare), CTS ``operations`` as sets in either spelling (a list of
  ``Service:resource:trace``, or ``Service:resource:trace1;trace2``); a status change is an
  update, another ``event_data`` a replacement (:mod:`.plan_triggers`);
* async invoke config: retry attempts, event age, destinations (``param`` compared as JSON).

A dependency package is a new version of the private dependency only when no version's
description carries the package's ``sha256:`` already; a package not built yet (``--plan`` only)
is planned as a new version. Rendering (values, secrets masked, totals): :mod:`.plan_view`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from .api import FunctionGraphApi, own_urn_destinations
from .packaging import Artifact
from .plan_triggers import trigger_changes
from .plan_view import MASK, Change, Plan, shown

__all__ = ["Change", "Plan", "make_plan", "apply_plan", "secrets_digest", "SECRETS_DIGEST_KEY"]

SECRETS_DIGEST_KEY = "SGGUARD_SECRETS_DIGEST"
_CONFIG_FIELDS = (
    "runtime",
    "handler",
    "memory_size",
    "timeout",
    "xrole",
    "app_xrole",
    "description",
    "initializer_handler",
    "initializer_timeout",
    "strategy_config",
    "func_vpc",
    "user_data",
)


def secrets_digest(project_id: str, func_name: str, values: dict) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.pbkdf2_hmac("sha256", canonical, f"sgguard:{project_id}:{func_name}".encode(), 100_000).hex()[:32]


@dataclass
class _Context:
    api: FunctionGraphApi
    dependency_ids: dict  # dependency name -> version id (filled while applying)


def _json(value: str | None) -> dict:
    try:
        parsed = json.loads(value) if value else {}
    except ValueError:
        return {"__unparsable__": value}
    return parsed if isinstance(parsed, dict) else {"__not_an_object__": value}


def _b64(artifact: Artifact) -> str:
    return base64.b64encode(artifact.path.read_bytes()).decode()


def _desired_config(api: FunctionGraphApi, function) -> dict:
    user_data = dict(function.user_data)
    # The documented context has no getProjectID: the functions read PROJECT_ID from user data
    # (else the preset RUNTIME_PROJECT_ID), so deploy writes the project it deploys into.
    user_data.setdefault("PROJECT_ID", api.project_id)
    user_data[SECRETS_DIGEST_KEY] = secrets_digest(api.project_id, function.func_name, function.encrypted_user_data)
    return {
        "runtime": function.runtime,
        "handler": function.handler,
        "memory_size": function.memory_size,
        "timeout": function.timeout,
        "xrole": function.xrole,
        "app_xrole": function.app_xrole,
        "description": function.description,
        "initializer_handler": function.initializer_handler,
        "initializer_timeout": function.initializer_timeout if function.initializer_handler else 0,
        "strategy_config": function.strategy_config,
        "func_vpc": function.func_vpc,
        "user_data": user_data,
    }


def _deployed_config(remote: dict) -> dict:
    strategy = remote.get("strategy_config") or {}
    return {
        "runtime": remote.get("runtime"),
        "handler": remote.get("handler"),
        "memory_size": remote.get("memory_size"),
        "timeout": remote.get("timeout"),
        "xrole": remote.get("xrole") or "",
        "app_xrole": remote.get("app_xrole") or "",
        "description": remote.get("description") or "",
        "initializer_handler": remote.get("initializer_handler") or "",
        "initializer_timeout": remote.get("initializer_timeout") or 0,
        "strategy_config": {k: strategy.get(k) for k in ("concurrency", "concurrent_num")},
        "func_vpc": (
            {k: (remote.get("func_vpc") or {}).get(k) for k in ("vpc_id", "subnet_id")}
            if (remote.get("func_vpc") or {}).get("vpc_id")
            else None
        ),
        "user_data": _json(remote.get("user_data")),
    }


def _config_diff(desired: dict, deployed: dict) -> list[str]:
    changed = []
    for name in _CONFIG_FIELDS:
        want, have = desired[name], deployed[name]
        if name == "func_vpc" and want is None:
            continue  # the template asks for no VPC access: one set by hand is left alone
        if name == "strategy_config":
            if want is None:
                continue
            want = {"concurrency": want.get("concurrency", -1), "concurrent_num": want.get("concurrent_num", 1)}
        if name == "user_data":
            changed += [f"user_data.{key}" for key in sorted(set(want) | set(have)) if want.get(key) != have.get(key)]
        elif want != have:
            changed.append(name)
    return changed


def _config_values(function, desired: dict) -> list[str]:
    """What a new function is created with, one ``name: value`` per line; secrets by name only."""
    values = [f"{name}: {shown(desired[name])}" for name in _CONFIG_FIELDS if name != "user_data" and desired[name]]
    values += [
        f"user_data.{key}: {shown(value)}"
        for key, value in sorted(desired["user_data"].items())
        if key != SECRETS_DIGEST_KEY
    ]
    if function.encrypted_user_data:
        values.append(f"encrypted_user_data: {', '.join(sorted(function.encrypted_user_data))} {MASK}")
    return values


def _changed_values(changed: list[str], desired: dict, deployed: dict) -> list[str]:
    """``name: old -> new`` for each changed field; a changed secret digest says only that the
    encrypted user data changes (the values are never read back, nor shown)."""
    values = []
    for name in changed:
        if name == f"user_data.{SECRETS_DIGEST_KEY}":
            values.append(f"encrypted_user_data: {MASK} -> {MASK} (a secret changed)")
        elif name.startswith("user_data."):
            key = name.split(".", 1)[1]
            values.append(f"{name}: {shown(deployed['user_data'].get(key))} -> {shown(desired['user_data'].get(key))}")
        else:
            values.append(f"{name}: {shown(deployed[name])} -> {shown(desired[name])}")
    return values


def _config_body(function, desired: dict) -> dict:
    body = {k: v for k, v in desired.items() if v is not None}
    body["func_name"] = function.func_name
    body["user_data"] = json.dumps(desired["user_data"], sort_keys=True)
    body["encrypted_user_data"] = json.dumps(function.encrypted_user_data, sort_keys=True)
    if not function.initializer_handler:
        body.pop("initializer_timeout", None)
    return body


def _async_normal(config: dict | None) -> dict | None:
    if not config:
        return None
    destinations = {}
    for key, target in (config.get("destination_config") or {}).items():
        if target:
            destinations[key] = (target.get("destination"), _json(target.get("param")))
    return {
        "attempts": config.get("max_async_retry_attempts"),
        "age": config.get("max_async_event_age_in_seconds"),
        "log": bool(config.get("enable_async_status_log")),
        "destinations": destinations,
    }


def _dependency_changes(
    api: FunctionGraphApi, template, artifacts: dict[str, Artifact], ids: dict[str, str]
) -> list[Change]:
    changes = []
    for dependency in template.dependencies:
        artifact = artifacts.get(dependency.name)
        if artifact is None:  # --plan before `sgguard package --dependencies`: it would be new
            changes.append(
                Change("create_dependency_version", dependency.name, f"{dependency.file} (not built yet)", None)
            )
            continue
        marker = f"sha256:{artifact.sha256}"
        found = [
            v
            for v in api.dependency_versions(dependency.name)
            if marker in (v.get("description") or "") and v.get("runtime") == dependency.runtime
        ]
        if found:
            ids[dependency.name] = found[-1]["id"]
            continue

        def create(ctx: _Context, dependency=dependency, artifact=artifact, marker=marker):
            description = f"{dependency.description} {marker}".strip()[:512]
            created = ctx.api.create_dependency_version(
                {
                    "depend_type": "zip",
                    "depend_file": _b64(artifact),
                    "runtime": dependency.runtime,
                    "name": dependency.name,
                    "description": description,
                }
            )
            ctx.dependency_ids[dependency.name] = created["id"]

        changes.append(
            Change("create_dependency_version", dependency.name, f"{artifact.size} bytes {marker[:19]}", create)
        )
    return changes


def _function_changes(api: FunctionGraphApi, function, artifact: Artifact, known_ids: dict) -> list[Change]:
    urn = api.urn(function.package, function.func_name)
    name = function.func_name
    desired = _desired_config(api, function)

    def depend_ids(ctx: _Context) -> list[str]:
        return [ctx.dependency_ids[d] for d in function.depend_on]

    remote = api.show_config(urn)
    changes: list[Change] = []
    if remote is None:

        def create(ctx: _Context):
            body = {
                "func_name": name,
                "package": function.package,
                "runtime": function.runtime,
                "handler": function.handler,
                "memory_size": function.memory_size,
                "timeout": function.timeout,
                "code_type": "zip",
                "code_filename": function.code_filename,
                "func_code": {"file": _b64(artifact)},
                "depend_version_list": depend_ids(ctx),
                **{
                    k: v
                    for k, v in _config_body(function, desired).items()
                    if k not in ("strategy_config", "func_name")
                },
            }
            ctx.api.create_function(body)

        changes.append(
            Change(
                "create_function",
                name,
                f"{artifact.size} bytes sha256:{artifact.sha256[:12]}",
                create,
                _config_values(function, desired),
            )
        )
        if function.strategy_config is not None:  # create_function has no strategy_config
            changes.append(
                Change(
                    "update_config",
                    name,
                    "strategy_config",
                    lambda ctx: ctx.api.update_config(urn, _config_body(function, desired)),
                )
            )
        remote_triggers, remote_async = [], None
    else:
        code = api.show_code(urn)
        want_deps = [known_ids.get(d) for d in function.depend_on]
        reasons = []
        if code.get("digest") != artifact.sha512:
            reasons.append(f"code sha256:{artifact.sha256[:12]}")
        if None in want_deps or list(code.get("depend_version_list") or []) != want_deps:
            reasons.append("depend_version_list")
        if reasons:
            changes.append(
                Change(
                    "update_code",
                    name,
                    ", ".join(reasons),
                    lambda ctx: ctx.api.update_code(
                        urn,
                        {
                            "code_type": "zip",
                            "code_filename": function.code_filename,
                            "func_code": {"file": _b64(artifact)},
                            "depend_version_list": depend_ids(ctx),
                        },
                    ),
                )
            )
        changed = _config_diff(desired, _deployed_config(remote))
        if changed:
            changes.append(
                Change(
                    "update_config",
                    name,
                    ", ".join(changed),
                    lambda ctx: ctx.api.update_config(urn, _config_body(function, desired)),
                    _changed_values(changed, desired, _deployed_config(remote)),
                )
            )
        remote_triggers, remote_async = api.list_triggers(urn), api.show_async_config(urn)

    changes += trigger_changes(urn, name, function.triggers, remote_triggers)
    async_config = own_urn_destinations(function.async_invoke_config, urn)
    want_async = _async_normal(async_config)
    if want_async != _async_normal(remote_async):
        if want_async is None or async_config is None:
            changes.append(Change("delete_async_config", name, "", lambda ctx: ctx.api.delete_async_config(urn)))
        else:
            changes.append(
                Change(
                    "update_async_config",
                    name,
                    f"retries {want_async['attempts']}, age {want_async['age']}s",
                    lambda ctx: ctx.api.update_async_config(urn, async_config),
                    [f"{key}: {shown(value)}" for key, value in sorted(want_async.items())],
                )
            )
    return changes


def make_plan(api: FunctionGraphApi, template, artifacts: dict[str, Artifact]) -> tuple[Plan, dict]:
    """The changes that would make the cloud match ``template`` (reads only) and the dependency
    version ids already deployed."""
    ids: dict[str, str] = {}
    plan = Plan(_dependency_changes(api, template, artifacts, ids))
    for function in template.functions:
        plan.changes += _function_changes(api, function, artifacts[function.func_name], ids)
    return plan, ids


def apply_plan(api: FunctionGraphApi, plan: Plan, dependency_ids: dict, report: Callable[[str], None] = print) -> None:
    ctx = _Context(api, dict(dependency_ids))
    for change in plan.changes:
        report(change.line())
        if change.run is not None:
            change.run(ctx)
