"""Where the report's judging settings come from: the deployed function, a file, or the environment.

The report must judge as the deployed sg_drift judges, so by default it reads that function's
configuration through the FunctionGraph API (``ShowFunctionConfig``) and takes its ``user_data``
— the plain settings (``PROTECTED_GROUPS``, ``RISKY_PORTS``, ``PIN_PROTECTED_FIRST``...). The
response also carries ``encrypted_user_data`` (signing keys, the store's password): it is never
read, kept or printed; only the ``user_data`` attribute is touched.

``--config FILE`` takes the settings from a file instead (a JSON object of user data keys, or
``KEY=VALUE`` lines); ``--config env`` from the environment, as before. With the default
(``deployed``) and no such function deployed, the environment is used and the report says so.

Where the cloud is (region, endpoints, project) is never taken from the settings: it is the CLI's
own target, so a function's internal endpoint cannot send the report's reads elsewhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, UsageError

__all__ = ["JudgingSettings", "judging_settings", "DEPLOYED", "ENVIRONMENT", "NOT_FROM_SETTINGS"]

DEPLOYED, ENVIRONMENT = "deployed", "env"
# the CLI's target decides these, never a function's user data
NOT_FROM_SETTINGS = frozenset(
    {
        "REGION",
        "PROJECT_ID",
        "ECS_ENDPOINT",
        "VPC_ENDPOINT",
        "SMN_ENDPOINT",
        "EG_ENDPOINT",
        "FUNCTIONGRAPH_ENDPOINT",
        "STS_ENDPOINT",
        "HUAWEICLOUD_SDK_STS_ENDPOINT",
    }
)
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class JudgingSettings:
    values: Mapping[str, str]
    source: str  # one phrase for the report's header: where the values came from
    notes: list[str] = field(default_factory=list)  # what the user should know (a fallback)


def _strings(values: Mapping[str, Any], where: str) -> dict[str, str]:
    bad = [key for key, value in values.items() if not isinstance(key, str) or not isinstance(value, str)]
    if bad:
        raise UsageError(f"{where}: every value must be a string (as in user data): {', '.join(map(str, bad[:5]))}")
    return {key: value for key, value in values.items() if key not in NOT_FROM_SETTINGS}


def read_config_file(path: Path) -> dict[str, str]:
    """A JSON object of user data keys, or ``KEY=VALUE`` lines (``#`` comments, blank lines)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UsageError(f"--config {path}: {error.strerror or error}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise UsageError(f"--config {path}: larger than {MAX_CONFIG_BYTES} bytes")
    text = raw.decode("utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as error:
            raise UsageError(f"--config {path}: not JSON ({error})") from None
        return _strings(document, f"--config {path}")
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--config {path}:{number}: write KEY=VALUE")
        values[key.strip()] = value.strip()
    return _strings(values, f"--config {path}")


def deployed_user_data(target: Any, function: str, package: str = "default") -> tuple[dict[str, str], str] | None:
    """The ``user_data`` of the deployed ``function`` and its URN; None when it is not deployed."""
    from huaweicloudsdkcore.exceptions.exceptions import SdkException, ServiceResponseException
    from huaweicloudsdkfunctiongraph.v2 import ShowFunctionConfigRequest

    from ..deployer.api import function_urn

    client = target.functiongraph_client()
    urn = function_urn(target.region, target.required_credentials().project_id, package, function)
    try:
        response = client.show_function_config(ShowFunctionConfigRequest(function_urn=urn))
    except ServiceResponseException as error:
        if error.status_code == 404:
            return None
        raise ConfigError(
            f"show_function_config {urn}: HTTP {error.status_code} {error.error_code}: {error.error_msg} "
            "(the report reads the deployed settings: functiongraph:function:getConfig; or give --config)"
        ) from None
    except SdkException as error:
        raise ConfigError(f"show_function_config {urn}: {error}") from None
    raw = response.user_data or "{}"  # only this attribute: encrypted_user_data is never read
    try:
        document = json.loads(raw)
    except ValueError:
        raise ConfigError(f"{urn}: user_data is not a JSON object") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{urn}: user_data is not a JSON object")
    return _strings(document, f"{urn} user_data"), urn


def judging_settings(config: str, target: Any, environ: Mapping[str, str], function: str) -> JudgingSettings:
    """The settings ``--config`` names (``deployed``, ``env`` or a file)."""
    if config == ENVIRONMENT:
        return JudgingSettings(dict(environ), "the environment (--config env)")
    if config != DEPLOYED:
        return JudgingSettings(read_config_file(Path(config)), f"--config {config}")
    found = deployed_user_data(target, function)
    if found is None:
        note = (
            f"{function} is not deployed in {target.region}: judged with the environment's settings "
            "(--config FILE to give them)"
        )
        return JudgingSettings(dict(environ), f"the environment ({function} is not deployed)", [note])
    values, urn = found
    return JudgingSettings(values, f"the deployed {function}'s user data ({urn})")
