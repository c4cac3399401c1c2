"""Request-body checks of the emulated FunctionGraph management API (pure functions).

Limits from the FunctionGraph documentation ("Notes and Constraints", API reference): function
names 1-60 characters starting with a letter and ending with a letter or digit; memory sizes
128...4096 in the console's steps plus 8192 and 10240 MB; timeout 3-900 s; user data at most 4096
characters in total ("Size of all environment variables of a function", Notes and Constraints: no
count of keys is documented, so none is enforced); keys start with a letter (letters, digits,
``_``: "Configuring Environment Variables"); a zip uploaded through the API at most 50 MB (1.5 GB unpacked); async
retries 0-3 and event age 1-86400 s. Errors: :mod:`.errors` (a broken zip is the real
"zip: not a valid zip file"; other 400s are the generic invalid-request error with a message that
names the field, the real service's per-field codes not all being documented).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import zipfile
from typing import Any

from localcloud.core.errors import BadRequest

from . import errors

__all__ = [
    "RUNTIMES",
    "MEMORY_SIZES",
    "TRIGGER_TYPES",
    "MAX_ZIP_BYTES",
    "MAX_UNZIPPED_BYTES",
    "MAX_DEPENDENCY_BYTES",
    "bad",
    "check_name",
    "check_runtime",
    "check_handler",
    "check_memory",
    "check_timeout",
    "check_user_data",
    "decode_code",
    "check_strategy",
    "check_async_config",
    "check_trigger",
    "check_depend_file",
]

RUNTIMES = (
    "Python2.7",
    "Python3.6",
    "Python3.9",
    "Python3.10",
    "Python3.12",
    "Node.js6.10",
    "Node.js8.10",
    "Node.js10.16",
    "Node.js12.13",
    "Node.js14.18",
    "Node.js16.17",
    "Node.js18.15",
    "Node.js20.15",
    "Java8",
    "Java11",
    "Java17",
    "Java21",
    "Go1.x",
    "C#(.NET Core 2.1)",
    "C#(.NET Core 3.1)",
    "C#(.NET Core 6.0)",
    "PHP7.3",
    "PHP8.3",
    "Cangjie1.0",
    "Custom",
    "http",
    "Custom Image",
)
MEMORY_SIZES = (128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096, 8192, 10240)
TRIGGER_TYPES = (
    "TIMER",
    "APIG",
    "CTS",
    "DDS",
    "DMS",
    "DIS",
    "LTS",
    "OBS",
    "SMN",
    "KAFKA",
    "RABBITMQ",
    "DEDICATEDGATEWAY",
    "OPENSOURCEKAFKA",
    "APIC",
    "GAUSSMONGO",
    "EVENTGRID",
    "IOTDA",
)
ASYNC_DESTINATIONS = ("OBS", "SMN", "DIS", "FunctionGraph")
MAX_ZIP_BYTES = 50 * 2**20
MAX_UNZIPPED_BYTES = 1500 * 2**20
MAX_DEPENDENCY_BYTES = 10 * 2**20  # a private dependency uploaded directly (larger ones go through OBS)
MAX_USER_DATA_BYTES = 4096
_NAME_RE = re.compile(r"^[A-Za-z](?:[A-Za-z0-9_-]{0,58}[A-Za-z0-9])?$")
_HANDLER_RE = re.compile(r"^[A-Za-z_][\w./-]*\.[A-Za-z_]\w*$")
_KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def bad(message: str) -> BadRequest:
    """An invalid request (:func:`.errors.invalid`): ``message`` names the field."""
    return errors.invalid(message)


def _int(body: dict, name: str, default: int | None = None) -> int | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"Invalid {name}: must be an integer.")
    return value


def check_name(value: Any, field: str = "func_name") -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise bad(
            f"Invalid {field}: 1-60 letters, digits, hyphens or underscores, starting with a letter "
            "and ending with a letter or digit."
        )
    return value


def check_runtime(value: Any) -> str:
    if value not in RUNTIMES:
        raise bad(f"Invalid runtime {value!r}: must be one of {', '.join(RUNTIMES)}.")
    return value


def check_handler(value: Any, runtime: str, field: str = "handler") -> str:
    if not isinstance(value, str) or not value or len(value) > 128:
        raise bad(f"Invalid {field}: required, at most 128 characters.")
    if runtime.startswith("Python") and not _HANDLER_RE.match(value):
        raise bad(f"Invalid {field} {value!r}: a Python handler is written module.function, e.g. index.handler.")
    return value


def check_memory(body: dict, default: int | None = None) -> int:
    value = _int(body, "memory_size", default)
    if value not in MEMORY_SIZES:
        raise bad(f"Invalid memory_size {value}: must be one of {', '.join(map(str, MEMORY_SIZES))} (MB).")
    return value


def check_timeout(body: dict, default: int | None = None, field: str = "timeout", low: int = 3, high: int = 900) -> int:
    value = _int(body, field, default)
    if value is None or not low <= value <= high:
        raise bad(f"Invalid {field} {value}: must be within {low}..{high} seconds.")
    return value


def check_user_data(value: Any, field: str = "user_data") -> str:
    """A JSON object of string values, sent as a string; at most 4096 bytes in all, keys as documented."""
    if value in (None, ""):
        return ""
    if not isinstance(value, str):
        raise bad(f"Invalid {field}: must be a JSON object serialised as a string.")
    try:
        parsed = json.loads(value)
    except ValueError:
        raise bad(f"Invalid {field}: not valid JSON.") from None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        raise bad(f"Invalid {field}: must be a JSON object whose values are strings.")
    if len(value.encode()) > MAX_USER_DATA_BYTES:
        raise bad(f"Invalid {field}: at most {MAX_USER_DATA_BYTES} bytes in total.")
    bad_keys = [key for key in parsed if not _KEY_RE.match(key)]
    if bad_keys:
        raise bad(f"Invalid {field}: bad key names {bad_keys[:5]}.")
    return value


def decode_code(body: dict) -> tuple[str, bytes]:
    """``(code_type, zip bytes)`` from ``code_type`` + ``func_code.file`` (zip or inline)."""
    code_type = body.get("code_type")
    if code_type not in ("zip", "inline"):
        raise bad(f"Invalid code_type {code_type!r}: localcloud emulates zip and inline code only.")
    func_code = body.get("func_code")
    if not isinstance(func_code, dict) or not isinstance(func_code.get("file"), str) or not func_code["file"]:
        raise bad("Invalid func_code: func_code.file (base64) is required for code_type zip and inline.")
    try:
        raw = base64.b64decode(func_code["file"], validate=True)
    except (binascii.Error, ValueError):
        raise bad("Invalid func_code.file: not valid base64.") from None
    if code_type == "inline":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("index.py", raw)
        return code_type, buffer.getvalue()
    if len(raw) > MAX_ZIP_BYTES:
        raise bad(f"Invalid func_code: the zip is {len(raw)} bytes, more than {MAX_ZIP_BYTES} (use OBS).")
    check_zip(raw, MAX_UNZIPPED_BYTES)
    return code_type, raw


def check_zip(raw: bytes, max_unzipped: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
            unpacked = sum(info.file_size for info in infos)
            broken = archive.testzip()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise errors.bad_zip() from None
    if broken is not None:
        raise errors.bad_zip(broken)
    if unpacked > max_unzipped:
        raise bad(f"Invalid func_code: {unpacked} bytes unpacked, more than {max_unzipped}.")
    if any(info.filename.startswith("/") or ".." in info.filename.split("/") for info in infos):
        raise bad("Invalid func_code: zip entries must be relative paths.")


def check_depend_file(body: dict) -> bytes:
    if body.get("depend_type") != "zip":
        raise bad("Invalid depend_type: localcloud emulates depend_type zip only.")
    value = body.get("depend_file")
    if not isinstance(value, str) or not value:
        raise bad("Invalid depend_file: base64 zip required for depend_type zip.")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad("Invalid depend_file: not valid base64.") from None
    if len(raw) > MAX_DEPENDENCY_BYTES:
        raise bad(f"Invalid depend_file: {len(raw)} bytes, more than {MAX_DEPENDENCY_BYTES} (upload it through OBS).")
    check_zip(raw, MAX_UNZIPPED_BYTES)
    return raw


def check_strategy(value: Any) -> dict:
    if not isinstance(value, dict):
        raise bad("Invalid strategy_config: must be an object.")
    concurrency = _int(value, "concurrency", -1)
    concurrent_num = _int(value, "concurrent_num", 1)
    if concurrency is None or not -1 <= concurrency <= 1000:
        raise bad("Invalid strategy_config.concurrency: -1 (no limit), 0 (disabled) or 1..1000.")
    if concurrent_num is None or not 1 <= concurrent_num <= 1000:
        raise bad("Invalid strategy_config.concurrent_num: 1..1000.")
    return {"concurrency": concurrency, "concurrent_num": concurrent_num}


def check_async_config(body: dict) -> dict:
    attempts = _int(body, "max_async_retry_attempts", 1)
    age = _int(body, "max_async_event_age_in_seconds", 21600)
    if attempts is None or not 0 <= attempts <= 3:
        raise bad("Invalid max_async_retry_attempts: must be within 0..3.")
    if age is None or not 1 <= age <= 86400:
        raise bad("Invalid max_async_event_age_in_seconds: must be within 1..86400.")
    destinations = body.get("destination_config") or {}
    if not isinstance(destinations, dict) or set(destinations) - {"on_success", "on_failure"}:
        raise bad("Invalid destination_config: only on_success and on_failure are allowed.")
    clean = {}
    for key, target in destinations.items():
        if target is None:
            continue
        if not isinstance(target, dict) or target.get("destination") not in ASYNC_DESTINATIONS:
            raise bad(f"Invalid destination_config.{key}.destination: one of {', '.join(ASYNC_DESTINATIONS)}.")
        param = target.get("param")
        try:
            parsed = json.loads(param) if isinstance(param, str) else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise bad(f"Invalid destination_config.{key}.param: a JSON object serialised as a string.")
        if target["destination"] == "SMN" and not str(parsed.get("topic_urn", "")).startswith("urn:smn:"):
            raise bad(f"Invalid destination_config.{key}.param: an SMN destination needs topic_urn (urn:smn:...).")
        clean[key] = {"destination": target["destination"], "param": param}
    enable_log = body.get("enable_async_status_log", False)
    if not isinstance(enable_log, bool):
        raise bad("Invalid enable_async_status_log: must be a boolean.")
    return {
        "max_async_retry_attempts": attempts,
        "max_async_event_age_in_seconds": age,
        "destination_config": clean,
        "enable_async_status_log": enable_log,
    }


TRIGGER_REQUIRED = {
    "CTS": ("name", "operations"),
    "KAFKA": ("instance_id", "topic_ids"),
    "DMS": ("instance_id",),
    "RABBITMQ": ("instance_id", "exchange_name"),
    "SMN": ("topic_urn",),
    "APIG": ("group_id", "env_name", "name", "auth", "protocol"),
    "DEDICATEDGATEWAY": ("group_id", "env_name", "name", "auth", "protocol", "instance_id"),
    "EVENTGRID": ("channel_id", "source_name", "trigger_name"),
    "TIMER": ("name", "schedule_type", "schedule"),
}
_CTS_OPERATION_RE = re.compile(r"^[A-Za-z0-9]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.*-]+(;[A-Za-z0-9_.*-]+)*$")


def expand_operations(operations: list[str]) -> list[str]:
    """``Service:resource:trace1;trace2`` (the form Terraform's CTS trigger example documents) as one
    ``Service:resource:trace`` per trace, in order, without repeats."""
    found: list[str] = []
    for operation in operations:
        service, resource, traces = operation.split(":", 2)
        for trace in traces.split(";"):
            if f"{service}:{resource}:{trace}" not in found:
                found.append(f"{service}:{resource}:{trace}")
    return found


def join_operations(operations: list[str]) -> list[str]:
    """The ``;``-joined answer: one entry per ``Service:resource``, its traces joined by ``;``."""
    grouped: dict[str, list[str]] = {}
    for operation in expand_operations(operations):
        prefix, trace = operation.rsplit(":", 1)
        grouped.setdefault(prefix, []).append(trace)
    return [f"{prefix}:{';'.join(traces)}" for prefix, traces in grouped.items()]


def check_trigger(body: dict) -> tuple[str, str, dict]:
    """``(trigger_type_code, trigger_status, event_data)`` of a create-trigger body."""
    kind = body.get("trigger_type_code")
    if kind not in TRIGGER_TYPES:
        raise bad(f"Invalid trigger_type_code {kind!r}: must be one of {', '.join(TRIGGER_TYPES)}.")
    default_status = "DISABLED" if kind in ("DDS", "KAFKA") else "ACTIVE"
    status = body.get("trigger_status") or default_status
    if status not in ("ACTIVE", "DISABLED"):
        raise bad("Invalid trigger_status: ACTIVE or DISABLED.")
    data = body.get("event_data")
    if not isinstance(data, dict):
        raise bad("Invalid event_data: must be an object.")
    missing = [name for name in TRIGGER_REQUIRED.get(kind, ()) if data.get(name) in (None, "", [])]
    if missing:
        raise bad(f"Invalid event_data for a {kind} trigger: missing {', '.join(missing)}.")
    batch = data.get("batch_size")
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= 10000):
        raise bad("Invalid event_data.batch_size: an integer within 1..10000.")
    if kind == "KAFKA" and batch is not None and batch > 1000:
        raise bad("Invalid event_data.batch_size: a Kafka trigger takes 1..1000.")
    if kind == "CTS":
        operations = data["operations"]
        if not isinstance(operations, list) or not all(
            isinstance(op, str) and _CTS_OPERATION_RE.match(op) for op in operations
        ):
            raise bad(
                "Invalid event_data.operations: a list of ServiceType:ResourceType:TraceName strings"
                " (several traces of one resource may be joined by ';')."
            )
    if kind == "KAFKA" and (
        not isinstance(data["topic_ids"], list) or not all(isinstance(t, str) and t for t in data["topic_ids"])
    ):
        raise bad("Invalid event_data.topic_ids: a list of topic names.")
    if kind == "SMN" and not str(data["topic_urn"]).startswith("urn:smn:"):
        raise bad("Invalid event_data.topic_urn: must be an SMN topic URN (urn:smn:...).")
    return kind, status, data
