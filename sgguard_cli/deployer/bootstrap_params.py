"""The parameters of ``sgguard bootstrap``: a short YAML file and/or flags, validated before any call.

    # bootstrap.yaml — no secrets here: SIGNING_KEYS_JSON (and KAFKA_PASSWORD) come from the environment
    region: cn-north-4
    kafka_instance_id: 9f0a1b2c-3d4e-5f60-7182-93a4b5c6d7e8   # an existing DMS for Kafka instance
    kafka_topic: sg-change-requests
    result_topic: sgguard-results      # SMN topic the results go to (an smn sink)
    alert_topic: sgguard-alerts        # SMN topic of failed async invocations (ALERT_TOPIC_URN)

Every error names the field as a JSON path (``$.kafka_instance_id``); unknown keys are refused, so
a typo is not silently ignored. A flag overrides the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["BootstrapParams", "ParamsError", "load_params"]

_AGENCY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")  # IAM: 1..64 characters
_SMN_TOPIC = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,255}$")  # SMN CreateTopic name rule
_KAFKA_TOPIC = re.compile(r"^[A-Za-z0-9._-]{3,200}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,3}$")


class ParamsError(Exception):
    def __init__(self, errors: list[str]):
        super().__init__("bootstrap parameters are invalid:\n  " + "\n  ".join(errors))
        self.errors = errors


@dataclass
class BootstrapParams:
    region: str = ""
    agency_name: str = ""  # empty: the template's AGENCY_NAME default
    kafka_instance_id: str = ""
    kafka_topic: str = "sg-change-requests"
    kafka_partitions: int = 3
    result_topic: str = "sgguard-results"
    alert_topic: str = "sgguard-alerts"
    tracker: bool = True
    dependency_zip: str = ""  # empty: the template's DEPENDENCY_ZIP default


_RULES: dict[str, tuple[re.Pattern[str], str]] = {
    "region": (_REGION, "a region id such as cn-north-4"),
    "agency_name": (_AGENCY, "1 to 64 letters, digits, '_', '.', '-'"),
    "kafka_instance_id": (_UUID, "the instance id (a lowercase UUID) from the DMS console"),
    "kafka_topic": (_KAFKA_TOPIC, "3 to 200 letters, digits, '.', '_', '-'"),
    "result_topic": (_SMN_TOPIC, "an SMN topic name: a letter or digit, then up to 255 letters, digits, '_', '-'"),
    "alert_topic": (_SMN_TOPIC, "an SMN topic name: a letter or digit, then up to 255 letters, digits, '_', '-'"),
}


def _check(values: dict[str, Any]) -> BootstrapParams:
    errors = []
    known = {f.name for f in fields(BootstrapParams)}
    for key in sorted(set(values) - known):
        errors.append(f"$.{key}: unknown parameter (known: {', '.join(sorted(known))})")
    params = BootstrapParams()
    for name, value in values.items():
        if name not in known:
            continue
        where = f"$.{name}"
        if name == "tracker":
            if not isinstance(value, bool):
                errors.append(f"{where}: must be true or false")
                continue
        elif name == "kafka_partitions":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 200:
                errors.append(f"{where}: must be an integer within 1..200")
                continue
        elif not isinstance(value, str):
            errors.append(f"{where}: must be a string (a number or list is not a name)")
            continue
        elif name in _RULES and value:
            pattern, rule = _RULES[name]
            if not pattern.match(value):  # ASCII only: a look-alike letter is refused, not normalised
                errors.append(f"{where}: {value!r} is not valid: {rule}")
                continue
        setattr(params, name, value)
    if errors:
        raise ParamsError(errors)
    return params


def load_params(path: str | None, flags: dict[str, Any]) -> BootstrapParams:
    """The file's values (if any), then the flags that were given (not None)."""
    values: dict[str, Any] = {}
    if path:
        import yaml

        try:
            document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise ParamsError([f"$: {path} is not valid YAML{where}"]) from None
        if document is not None and not isinstance(document, dict):
            raise ParamsError([f"$: {path} must be a mapping of parameter: value"])
        values.update(document or {})
    values.update({k: v for k, v in flags.items() if v is not None})
    return _check(values)
