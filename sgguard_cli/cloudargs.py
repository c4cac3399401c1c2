"""Where the cloud is and who calls it: one place for every subcommand.

The same environment variables as the Huawei Cloud SDK and CLI (KooCLI):

* credentials: ``HUAWEICLOUD_SDK_AK``, ``HUAWEICLOUD_SDK_SK``, ``HUAWEICLOUD_SDK_PROJECT_ID`` and,
  for temporary credentials, ``HUAWEICLOUD_SDK_SECURITY_TOKEN`` — never on the command line;
* region: ``--region``, else ``REGION`` (the functions' own setting, also a template parameter),
  else ``HUAWEICLOUD_SDK_REGION``, else the template's default, else ``cn-north-4``;
* endpoints: ``--endpoint URL`` points every service at one URL (localcloud's), and so does
  ``LOCALCLOUD_URL`` (what ``sgguard serve`` tells you to export); otherwise ``ECS_ENDPOINT``,
  ``VPC_ENDPOINT``, ``FUNCTIONGRAPH_ENDPOINT``..., else the region's public
  ``https://{service}.{region}.myhuaweicloud.com``.

The SDK's own log lines (``ConnectionException occurred. ...`` once per attempt, before our error
says the same once) are silenced: :func:`quiet_sdk_loggers`, called by :func:`cloud_target`.

``--endpoint`` and ``--region`` are accepted before the subcommand (``sgguard --region cn-north-4
show ID``) or after it (``sgguard show ID --region cn-north-4``).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, overload

from .errors import ConfigError

__all__ = [
    "AK",
    "SK",
    "PROJECT_ID",
    "SECURITY_TOKEN",
    "SDK_REGION",
    "DEFAULT_REGION",
    "add_cloud_arguments",
    "Credentials",
    "credentials_from",
    "region_from",
    "CloudTarget",
    "cloud_target",
    "public_endpoint",
    "quiet_sdk_loggers",
    "SDK_LOGGER_PREFIX",
]

AK, SK, PROJECT_ID = "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID"
SECURITY_TOKEN, SDK_REGION = "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_REGION"
DEFAULT_REGION = "cn-north-4"
CREDENTIALS_HELP = (
    f"credentials: {AK}, {SK}, {PROJECT_ID} (and {SECURITY_TOKEN} for temporary ones) from the environment"
)


def add_cloud_arguments(parser: argparse.ArgumentParser, *, endpoint_help: str, top_level: bool = False) -> None:
    """``--endpoint`` and ``--region``. On the subcommand's parser they default to SUPPRESS, so a
    value given before the subcommand survives."""
    default = None if top_level else argparse.SUPPRESS
    group = parser.add_argument_group("cloud") if not top_level else parser
    group.add_argument("--endpoint", metavar="URL", default=default, help=endpoint_help)
    group.add_argument(
        "--region", default=default, help=f"region (default: $REGION, else ${SDK_REGION}, else {DEFAULT_REGION})"
    )


@dataclass(frozen=True)
class Credentials:
    ak: str
    sk: str
    project_id: str
    security_token: str | None = None


@overload
def credentials_from(environ: Mapping[str, str], *, required: Literal[True] = True) -> Credentials: ...


@overload
def credentials_from(environ: Mapping[str, str], *, required: bool) -> Credentials | None: ...


def credentials_from(environ: Mapping[str, str], *, required: bool = True) -> Credentials | None:
    missing = [name for name in (AK, SK, PROJECT_ID) if not environ.get(name)]
    if missing:
        if required:
            raise ConfigError(f"set {', '.join(missing)} (credentials and project come from the environment)")
        return None
    return Credentials(environ[AK], environ[SK], environ[PROJECT_ID], environ.get(SECURITY_TOKEN) or None)


def region_from(args: argparse.Namespace | None, environ: Mapping[str, str], fallback: str | None = None) -> str:
    return (
        (getattr(args, "region", None) if args is not None else None)
        or environ.get("REGION")
        or environ.get(SDK_REGION)
        or fallback
        or DEFAULT_REGION
    )


def public_endpoint(service: str, region: str) -> str:
    return f"https://{service}.{region}.myhuaweicloud.com"


@dataclass(frozen=True)
class CloudTarget:
    region: str
    credentials: Credentials | None
    endpoint_override: str | None
    environ: Mapping[str, str]

    def endpoint(self, service: str) -> str:
        """``--endpoint`` (or ``LOCALCLOUD_URL``), else ``<SERVICE>_ENDPOINT``, else the region's public endpoint."""
        return (
            self.endpoint_override
            or self.environ.get(f"{service.upper()}_ENDPOINT")
            or public_endpoint(service, self.region)
        )

    def is_public(self, service: str) -> bool:
        return self.endpoint(service) == public_endpoint(service, self.region)

    def required_credentials(self) -> Credentials:
        """The credentials; without them the ConfigError that names the missing variables."""
        return self.credentials or credentials_from(self.environ)

    def functiongraph_client(self) -> Any:
        """The official FunctionGraph client at :meth:`endpoint`, with the required credentials."""
        from .deployer.api import build_client

        credentials = self.required_credentials()
        return build_client(
            credentials.ak,
            credentials.sk,
            credentials.project_id,
            self.endpoint("functiongraph"),
            credentials.security_token,
        )


SDK_LOGGER_PREFIX = "HuaweiCloud-SDK-"  # huaweicloudsdkcore: one logger per client class, not propagated


class _NotTheSdk(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(SDK_LOGGER_PREFIX)


def quiet_sdk_loggers() -> None:
    """Keep the SDK's loggers off stderr. They have no handler and do not propagate, so Python's
    last-resort handler prints their warnings and errors; it keeps printing everyone else's."""
    last_resort = logging.lastResort
    if last_resort is not None and not any(isinstance(f, _NotTheSdk) for f in last_resort.filters):
        last_resort.addFilter(_NotTheSdk())


def cloud_target(
    args: argparse.Namespace,
    environ: Mapping[str, str],
    *,
    region_fallback: str | None = None,
    credentials_required: bool = True,
) -> CloudTarget:
    quiet_sdk_loggers()
    return CloudTarget(
        region=region_from(args, environ, region_fallback),
        credentials=credentials_from(environ, required=credentials_required),
        endpoint_override=(getattr(args, "endpoint", None) or environ.get("LOCALCLOUD_URL") or "").rstrip("/") or None,
        environ=environ,
    )
