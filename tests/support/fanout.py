"""The organisation sweep's platform side, for functional tests: sg_drift exists in the home
project's FunctionGraph (created through the official SDK), every async invocation the functions
make is recorded there by localcloud, and :class:`Platform` plays FunctionGraph's part: it runs
each recorded invocation, once, with the real handler in this process and a context of its own
(request id = the invocation's), in arrival order, until none is left. Deterministic: no thread,
no timing (bench/backlog.py does the same for change_request's continuations; the local runtime,
``localcloud.runtime``, runs them in processes for ``sgguard bench org``).
"""

from __future__ import annotations

import base64
import io
import json
from contextlib import redirect_stdout

from localcloud.runtime import FunctionContext
from tests.support.functions import SIGNING_KEYS, load_handler
from tests.support.organisation import HOME, HOME_AK, HOME_SK, REGIONS, project_id, targets_setting

__all__ = ["Platform", "timer_event", "HOME_PROJECT"]

HOME_PROJECT = project_id(HOME, REGIONS[0])


def timer_event(time: str = "2026-12-02T10:00:00+00:00") -> dict:
    return {"version": "v1.0", "time": time, "trigger_type": "TIMER", "trigger_name": "sgguard_sg_drift_sweep"}


def _create_sg_drift(org) -> None:
    from huaweicloudsdkfunctiongraph.v2 import CreateFunctionRequest, CreateFunctionRequestBody, FuncCode

    from tests.support.sdk import credentials_for, functiongraph_client

    credentials = credentials_for(org.home, ak=HOME_AK, sk=HOME_SK, project_id=HOME_PROJECT)
    body = CreateFunctionRequestBody(
        func_name="sg_drift",
        package="default",
        runtime="Python3.10",
        handler="index.handler",
        memory_size=512,
        timeout=900,
        code_type="inline",
        func_code=FuncCode(file=base64.b64encode(b"def handler(event, context):\n    return {}\n").decode()),
    )
    functiongraph_client(org.home, credentials).create_function(CreateFunctionRequest(body=body))


class Platform:
    """sg_drift's invocations in the home project, run one by one."""

    def __init__(self, org, **user_data):
        self.org = org
        self.user_data = {
            "REGION": REGIONS[0],
            "PROJECT_ID": HOME_PROJECT,
            "ECS_ENDPOINT": org.home.url,
            "VPC_ENDPOINT": org.home.url,
            "FUNCTIONGRAPH_ENDPOINT": org.home.url,
            "CONNECT_TIMEOUT_S": "1",
            "READ_TIMEOUT_S": "2",
            "BACKOFF_BASE_S": "0.01",
            "BACKOFF_MAX_S": "0.05",
            "REQUEST_SIGNING_KEYS": json.dumps(SIGNING_KEYS),
            "GROUP_CACHE_TTL_S": "0",
            "TARGETS": targets_setting(),
        }
        self.user_data.update({k: v for k, v in user_data.items() if v is not None})
        self.seen: set[str] = set()
        self.results: list[dict] = []  # every result's data, of every invocation run, in order
        self.events: list[dict] = []  # the result events themselves
        _create_sg_drift(org)

    def recorded(self) -> list[dict]:
        """sg_drift's async invocations, oldest first (request_id, payload)."""
        with self.org.home.backend.lock:
            function = self.org.home.backend.project(HOME_PROJECT).service("functiongraph").functions["sg_drift"]
            return [dict(record) for record in function.invocations if record.get("mode") == "async"]

    def invoke(self, event, request_id: str) -> list[dict]:
        """One invocation of sg_drift with ``event``; its results (data)."""
        credential = self.org.home.backend.issue_temporary_credential(HOME_PROJECT)
        context = FunctionContext(
            user_data=self.user_data,
            ak=credential.ak,
            sk=credential.sk,
            security_token=credential.security_token,
            function_name="sg_drift",
            request_id=request_id,
            timeout_s=900,
        )
        with redirect_stdout(io.StringIO()):
            response = load_handler("sg_drift")(event, context)
        self.events.extend(response["results"])
        results = [result["data"] for result in response["results"]]
        self.results.extend(results)
        return results

    def drain(self, limit: int = 100) -> list[dict]:
        """Run every recorded invocation not run yet (and those they make), once each; their results."""
        ran: list[dict] = []
        for _ in range(limit):
            pending = [r for r in self.recorded() if r["request_id"] not in self.seen]
            if not pending:
                return ran
            record = pending[0]
            self.seen.add(record["request_id"])
            ran.extend(self.invoke(record["payload"], record["request_id"]))
        raise AssertionError(f"more than {limit} invocations: a loop?")

    def redeliver(self, request_id: str) -> list[dict]:
        """The recorded invocation ``request_id`` delivered once more (as the platform may)."""
        record = next(r for r in self.recorded() if r["request_id"] == request_id)
        return self.invoke(record["payload"], request_id)
