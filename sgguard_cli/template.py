"""template.yaml: load, substitute ``${NAME}`` parameters, validate, return a typed structure.

    from sgguard_cli.template import load_template
    template = load_template("template.yaml", os.environ)   # raises TemplateError

Order: YAML -> schema check as written (a literal secret in ``encrypted_user_data`` is refused
before anything is resolved) -> every ``${NAME}`` a declared parameter with a value (the error
names *all* missing ones) -> secret rules -> schema check with the non-secret parameters
substituted (an unknown ``runtime: ${RUNTIME}`` fails with its path) -> typed :class:`Template`,
keeping the triggers (and event channels) whose ``when`` is true. Format: docs/template.md.

Over 400 lines: one loader, its schema, parameter, secret and semantic checks read together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "TemplateError",
    "Template",
    "FunctionSpec",
    "TriggerSpec",
    "DependencySpec",
    "AgencySpec",
    "load_template",
    "parse_template",
    "references",
    "SCHEMA_PATH",
    "SECRET_EVENT_FIELDS",
    "cts_operations",
    "trace_names",
]

from shared.schemas.messages import describe

from .project import project_root, shared_schema

SCHEMA_PATH = shared_schema("template.v1.json")
_REF_RE = re.compile(r"\$\{([^}]*)\}")
_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
SECRET_EVENT_FIELDS = ("kafka_password", "access_password", "db_password")
_FALSE = ("", "false", "0", "no", "off")


def cts_operations(value: object) -> frozenset[str]:
    """A CTS trigger's ``operations`` as a set of ``Service:resource:trace`` strings, whichever way
    they are written: a list of three-part strings, or (Terraform's ``huaweicloud_fgs_function_trigger``
    example) several traces of one resource joined by ``;`` — ``ECS:ecs:createServer;createServerV2`` —
    in a list or as one string. Empty parts are dropped; anything else is kept as written, so that
    a malformed entry still shows as a difference."""
    items = [value] if isinstance(value, str) else value if isinstance(value, (list, tuple)) else []
    found: set[str] = set()
    for item in items:
        text = str(item).strip()
        service, sep, rest = text.partition(":")
        resource, sep2, traces = rest.partition(":")
        if not (sep and sep2):
            found.add(text)
            continue
        found.update(f"{service}:{resource}:{trace.strip()}" for trace in traces.split(";") if trace.strip())
    return frozenset(found)


def trace_names(value: object) -> frozenset[str]:
    """The trace names (third parts) of :func:`cts_operations`."""
    return frozenset(operation.rsplit(":", 1)[-1] for operation in cts_operations(value))


class TemplateError(Exception):
    """The template is unusable; ``errors`` lists every problem as ``"$.path: message"``."""

    def __init__(self, errors: list[str], missing: list[str] | None = None, parameters: dict | None = None):
        self.errors, self.missing = list(errors), sorted(missing or [])
        self.parameters = dict(parameters or {})  # the declared parameters (descriptions), when known
        super().__init__("template.yaml is invalid:\n  " + "\n  ".join(self.errors))


@dataclass(frozen=True)
class TriggerSpec:
    trigger_type_code: str
    trigger_status: str
    event_data: dict
    event_type_code: str = ""

    def public_event_data(self) -> dict:
        """``event_data`` without the secret fields the API never returns (passwords)."""
        return {k: v for k, v in self.event_data.items() if k not in SECRET_EVENT_FIELDS}


@dataclass
class FunctionSpec:
    func_name: str
    package: str
    runtime: str
    handler: str
    memory_size: int
    timeout: int
    source: str
    include: tuple[str, ...] = ()
    description: str = ""
    xrole: str = ""
    app_xrole: str = ""
    code_type: str = "zip"
    code_filename: str = ""
    depend_on: tuple[str, ...] = ()
    initializer_handler: str = ""
    initializer_timeout: int = 0
    strategy_config: dict | None = None
    func_vpc: dict | None = None  # {"vpc_id", "subnet_id"}; None: no VPC access (the template's vpc_id empty)
    user_data: dict = field(default_factory=dict)
    encrypted_user_data: dict = field(default_factory=dict, repr=False)
    triggers: list[TriggerSpec] = field(default_factory=list)
    async_invoke_config: dict | None = None  # API shape: destination params as JSON strings


@dataclass(frozen=True)
class DependencySpec:
    name: str
    runtime: str
    file: str
    description: str = ""


@dataclass(frozen=True)
class AgencySpec:
    name: str
    policy: dict
    delegated_service: str = ""

    @property
    def actions(self) -> set[str]:
        return {
            action
            for statement in self.policy.get("Statement", [])
            if statement.get("Effect") == "Allow"
            for action in statement.get("Action", [])
        }


@dataclass
class Template:
    description: str
    parameters: dict
    values: dict = field(repr=False)  # parameter -> resolved value (secrets included)
    functions: list[FunctionSpec] = field(default_factory=list)
    dependencies: list[DependencySpec] = field(default_factory=list)
    agency: AgencySpec | None = None
    root: Path = field(default_factory=project_root)
    event_channels: list[dict] = field(default_factory=list)  # those whose `when` holds (bootstrap creates them)

    def function(self, name: str) -> FunctionSpec:
        for function in self.functions:
            if function.func_name == name:
                return function
        raise KeyError(name)

    def dependency(self, name: str) -> DependencySpec:
        for dependency in self.dependencies:
            if dependency.name == name:
                return dependency
        raise KeyError(name)


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    schema = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _path(parts) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _schema_errors(document: Any, stage: str = "") -> list[str]:
    errors = []
    for error in sorted(_validator().iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        parts, message = list(error.absolute_path), describe(error)  # words, never a regex
        if "encrypted_user_data" in parts or (parts and parts[-1] in SECRET_EVENT_FIELDS):  # may be a secret
            message = "must be a ${PARAMETER} reference to a secret parameter (a literal value is refused)"
        errors.append(f"{_path(error.absolute_path)}: {message}{stage}")
    return list(dict.fromkeys(errors))  # one line per missing-properties list, not one per property


def references(value: Any, path: tuple = ()) -> list[tuple[str, tuple]]:
    """Every ``(NAME, path)`` referenced as ``${NAME}`` anywhere in ``value``."""
    found: list[tuple[str, tuple]] = []
    if isinstance(value, str):
        found.extend((match.group(1), path) for match in _REF_RE.finditer(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            found.extend(references(item, path + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(references(item, path + (index,)))
    return found


def _substitute(value: Any, values: Mapping[str, str], keep: frozenset = frozenset()) -> Any:
    if isinstance(value, str):
        return _REF_RE.sub(lambda m: m.group(0) if m.group(1) in keep else values[m.group(1)], value)
    if isinstance(value, dict):
        return {key: _substitute(item, values, keep) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, values, keep) for item in value]
    return value


def _secret_position(path: tuple) -> bool:
    return (len(path) >= 4 and path[0] == "functions" and path[2] == "encrypted_user_data") or (
        len(path) >= 1 and path[-1] in SECRET_EVENT_FIELDS
    )


def _check_parameters(document: dict, environ: Mapping[str, str]) -> dict:
    declared = document.get("parameters") or {}
    errors, missing, values = [], set(), {}
    for name, spec in declared.items():
        if spec.get("secret") and spec.get("default"):
            errors.append(
                f"$.parameters.{name}: a secret parameter cannot have a default (it would be a "
                "secret written in the template)"
            )
    for name, path in references({k: v for k, v in document.items() if k != "parameters"}):
        where = _path(path)
        if not _NAME_RE.match(name):
            errors.append(f"{where}: ${{{name}}} is not a valid parameter name (A-Z, 0-9, _)")
            continue
        if name not in declared:
            errors.append(f"{where}: ${{{name}}} is not declared under parameters")
            continue
        secret = bool(declared[name].get("secret"))
        if secret and not _secret_position(path):
            errors.append(
                f"{where}: secret parameter {name} may only be used in encrypted_user_data or a password field"
            )
        if not secret and path[:1] == ("functions",) and len(path) >= 3 and path[2] == "encrypted_user_data":
            errors.append(
                f"{where}: encrypted_user_data must reference a parameter declared secret: true ({name} is not)"
            )
        value = environ.get(name)
        if value is None:
            value = declared[name].get("default")
        if value is None:
            missing.add(name)
        else:
            values[name] = str(value)
    if missing:
        errors.insert(0, "missing parameters (set them in the deploy environment): " + ", ".join(sorted(missing)))
    if errors:
        raise TemplateError(errors, sorted(missing), declared)
    return values


def _when(trigger: dict) -> bool:
    return str(trigger.get("when", "true")).strip().lower() not in _FALSE


def _async_config(raw: dict | None) -> dict | None:
    if not raw:
        return None
    config = {k: v for k, v in raw.items() if k != "destination_config"}
    destinations = {}
    for key, target in (raw.get("destination_config") or {}).items():
        destinations[key] = {
            "destination": target["destination"],
            "param": json.dumps(target["param"], sort_keys=True, separators=(",", ":")),
        }
    config["destination_config"] = destinations
    return config


def _semantic_errors(template: Template) -> list[str]:
    errors, names = [], set()
    dependency_names = {d.name for d in template.dependencies}
    for index, function in enumerate(template.functions):
        where = f"$.functions[{index}]"
        if function.func_name in names:
            errors.append(f"{where}.func_name: duplicate function {function.func_name}")
        names.add(function.func_name)
        for name in function.depend_on:
            if name not in dependency_names:
                errors.append(f"{where}.depend_on: unknown dependency {name}")
        if function.func_vpc is not None and not function.func_vpc.get("subnet_id"):
            errors.append(f"{where}.func_vpc.subnet_id: empty once resolved, but vpc_id is set")
        for part in ("user_data", "encrypted_user_data"):
            size = len(json.dumps(getattr(function, part), separators=(",", ":")).encode())
            if size > 4096:
                errors.append(f"{where}.{part}: {size} bytes once resolved, FunctionGraph allows 4096")
        errors += _targets_errors(where, function)
        for t_index, trigger in enumerate(function.triggers):
            if trigger.event_data.get("auth") == "NONE" and function.user_data.get("REQUIRE_SIGNED_REQUESTS") != "true":
                errors.append(f'{where}.triggers[{t_index}].event_data.auth: NONE needs REQUIRE_SIGNED_REQUESTS "true"')
            may_be_empty = (*SECRET_EVENT_FIELDS, "kafka_user", "access_user", "env_id", "sl_domain")
            empty = [k for k, v in trigger.event_data.items() if v in ("", []) and k not in may_be_empty]
            if empty:
                errors.append(f"{where}.triggers[{t_index}].event_data: empty once resolved: {', '.join(empty)}")
        for key, target in ((function.async_invoke_config or {}).get("destination_config") or {}).items():
            if target["destination"] == "SMN" and not json.loads(target["param"]).get("topic_urn", "").startswith(
                "urn:smn:"
            ):
                errors.append(
                    f"{where}.async_invoke_config.destination_config.{key}.param.topic_urn: "
                    "must be an SMN topic URN (urn:smn:...)"
                )
    return errors


def _targets_errors(where: str, function: FunctionSpec) -> list[str]:
    """What would make the function refuse every invocation, refused before deploying: TARGETS and
    TARGETS_FILE both set, a TARGETS the functions' own parser refuses (each problem with its JSON
    path), a TARGETS_FILE not in the package (``build.include``)."""
    from pathlib import PurePosixPath

    inline, file_name = function.user_data.get("TARGETS"), function.user_data.get("TARGETS_FILE")
    if inline and file_name:
        return [f"{where}.user_data: set TARGETS or TARGETS_FILE, not both"]
    if inline:
        from shared.targets import TargetsError, parse_targets  # jsonschema: only with TARGETS

        try:
            parse_targets(json.loads(inline), home_region=function.user_data.get("REGION") or "cn-north-4")
        except TargetsError as error:
            return [f"{where}.user_data.TARGETS: {detail.path}: {detail.message}" for detail in error.details]
        except ValueError:
            return [f"{where}.user_data.TARGETS: is not valid JSON"]
    packed = {PurePosixPath(item) for item in function.include}
    if file_name and PurePosixPath(file_name) not in packed:
        return [f"{where}.build.include: TARGETS_FILE {file_name} is not in the package: list it there"]
    return []


def _function(raw: dict) -> FunctionSpec:
    build = raw["build"]
    triggers = [
        TriggerSpec(
            t["trigger_type_code"],
            t.get("trigger_status", "ACTIVE"),
            dict(t["event_data"]),
            t.get("event_type_code", ""),
        )
        for t in raw.get("triggers", [])
        if _when(t)
    ]
    return FunctionSpec(
        func_name=raw["func_name"],
        package=raw["package"],
        runtime=raw["runtime"],
        handler=raw["handler"],
        memory_size=raw["memory_size"],
        timeout=raw["timeout"],
        source=build["source"],
        include=tuple(build.get("include", ())),
        description=raw.get("description", ""),
        xrole=raw.get("xrole", ""),
        app_xrole=raw.get("app_xrole", ""),
        code_type=raw["code_type"],
        code_filename=raw.get("code_filename") or f"{raw['func_name']}.zip",
        depend_on=tuple(raw.get("depend_on", ())),
        initializer_handler=raw.get("initializer_handler", ""),
        initializer_timeout=raw.get("initializer_timeout", 0),
        strategy_config=raw.get("strategy_config"),
        user_data=dict(raw.get("user_data") or {}),
        func_vpc=dict(raw["func_vpc"]) if (raw.get("func_vpc") or {}).get("vpc_id") else None,
        encrypted_user_data=dict(raw.get("encrypted_user_data") or {}),
        triggers=triggers,
        async_invoke_config=_async_config(raw.get("async_invoke_config")),
    )


def parse_template(document: Any, environ: Mapping[str, str], root: Path | None = None) -> Template:
    if not isinstance(document, dict):
        raise TemplateError(["$: the template must be a YAML mapping"])
    errors = _schema_errors(document)
    if errors:
        raise TemplateError(errors)
    values = _check_parameters(document, environ)
    secrets = frozenset(name for name, spec in document["parameters"].items() if spec.get("secret"))
    view = _substitute(document, values, keep=secrets)
    errors = _schema_errors(view, " (after substituting parameters)")
    if errors:
        raise TemplateError(errors)
    resolved = _substitute({k: v for k, v in document.items() if k != "parameters"}, values)
    template = Template(
        description=resolved.get("description", ""),
        parameters=dict(document["parameters"]),
        values=values,
        functions=[_function(raw) for raw in resolved["functions"]],
        dependencies=[
            DependencySpec(d["name"], d["runtime"], d["file"], d.get("description", ""))
            for d in resolved.get("dependencies", [])
        ],
        agency=AgencySpec(
            resolved["agency"]["name"], resolved["agency"]["policy"], resolved["agency"].get("delegated_service", "")
        ),
        root=root if root is not None else project_root(),
        event_channels=[c for c in resolved.get("event_channels", []) if _when(c)],
    )
    errors = _semantic_errors(template)
    if errors:
        raise TemplateError(errors)
    return template


def load_template(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Template:
    import os

    import yaml

    path = Path(path) if path is not None else project_root() / "template.yaml"
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise TemplateError([f"$: not valid YAML: {error}"]) from None
    return parse_template(document, os.environ if environ is None else environ, root=path.resolve().parent)
