"""Run the real handlers against localcloud: a FunctionGraph context with agency credentials.

The context carries temporary credentials that localcloud issued (AK/SK + security token), and
user data pointing the endpoints at localcloud, exactly as a deployed function would get them.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

from localcloud.runtime import FunctionContext

ROOT = Path(__file__).resolve().parents[2]
SIGNING_KEYS = {"ticketing-1": "s3cret-signing-key-for-tests-0001", "ticketing-2": "another-signing-key-0002-abcdef"}

__all__ = ["load_handler", "make_context", "Invoker", "SIGNING_KEYS"]

_HANDLERS: dict[str, object] = {}


def load_handler(function: str):
    """``functions/<function>/index.py:handler``, loaded as FunctionGraph would (by file)."""
    if function not in _HANDLERS:
        from bench.support import load_handler as load  # tests may use bench, never the reverse

        _HANDLERS[function] = load(function)
    return _HANDLERS[function]


def base_user_data(cloud) -> dict:
    return {
        "REGION": cloud.region,
        "ECS_ENDPOINT": cloud.url,
        "VPC_ENDPOINT": cloud.url,
        "CONNECT_TIMEOUT_S": "1",
        "READ_TIMEOUT_S": "1",
        "BACKOFF_BASE_S": "0.01",
        "BACKOFF_MAX_S": "0.05",
        "REQUEST_SIGNING_KEYS": json.dumps(SIGNING_KEYS),
        "REQUIRE_SIGNED_REQUESTS": "true",
        "GROUP_CACHE_TTL_S": "0",
        "SAFETY_MARGIN_MS": "500",
    }


def make_context(cloud, *, timeout_s: float = 30.0, function_name: str = "change_request", **user_data):
    credentials = cloud.temporary_credentials(cloud.project_id)
    data = base_user_data(cloud)
    data["PROJECT_ID"] = cloud.project_id  # what the deploy command writes into user data
    data.update({k: v for k, v in user_data.items() if v is not None})
    for key in [k for k, v in user_data.items() if v is None]:
        data.pop(key, None)
    return FunctionContext(
        user_data=data,
        ak=credentials["ak"],
        sk=credentials["sk"],
        security_token=credentials["security_token"],
        timeout_s=timeout_s,
        function_name=function_name,
    )


class Invoker:
    """Invoke a function's real handler; keeps the log lines it printed."""

    def __init__(self, cloud, function: str):
        self.cloud = cloud
        self.function = function
        self.handler = load_handler(function)
        self.log_lines: list[dict] = []

    def __call__(self, event, *, timeout_s: float = 30.0, **user_data):
        context = make_context(self.cloud, timeout_s=timeout_s, function_name=self.function, **user_data)
        out = io.StringIO()
        try:
            with redirect_stdout(out):
                return self.handler(event, context)
        finally:  # also when the handler raises: what it logged before is the evidence
            self.log_lines = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
