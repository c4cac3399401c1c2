"""A backlog larger than one invocation can take: continuations carry it to the end.

The measured child runs change_request on one big Kafka batch with a short function timeout;
what it cannot start before the safety margin it hands on to an asynchronous invocation of itself
(localcloud's FunctionGraph API records it: ``change_request`` exists there as a function). The
bench then plays FunctionGraph's part: each recorded continuation runs in a fresh child with the
same timeout, until none is left. Checked: every message reaches a final outcome (the one the
workload expects), none ``failed`` for lack of time, and how many continuations (and hops) it took.
"""

from __future__ import annotations

import base64
import time
from collections import Counter

from .support import LocalCloudProcess, Workdir, context_spec, run_child
from .workload import Fleet, Message, kafka, sign

__all__ = ["run_backlog"]


def _create_function(cloud: LocalCloudProcess, timeout_s: int) -> None:
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkfunctiongraph.v2 import (
        CreateFunctionRequest,
        CreateFunctionRequestBody,
        FuncCode,
        FunctionGraphClient,
    )

    credentials = BasicCredentials(cloud.info["ak"], cloud.info["sk"], cloud.project_id)
    client = FunctionGraphClient.new_builder().with_credentials(credentials).with_endpoints([cloud.url]).build()
    body = CreateFunctionRequestBody(
        func_name="change_request",
        package="default",
        runtime="Python3.10",
        handler="index.handler",
        memory_size=256,
        timeout=timeout_s,
        code_type="inline",
        func_code=FuncCode(file=base64.b64encode(b"def handler(event, context):\n    return {}\n").decode()),
    )
    client.create_function(CreateFunctionRequest(body=body))


def run_backlog(
    work: Workdir, cloud: LocalCloudProcess, fleet: Fleet, messages: list[Message], *, timeout_s: int = 60
) -> dict:
    cloud.control.reset()
    _create_function(cloud, timeout_s)
    spec = context_spec(
        cloud.control, cloud.project_id, cloud.url, cloud.region, timeout_s=timeout_s, FUNCTIONGRAPH_ENDPOINT=cloud.url
    )
    context = work.file("context", spec)
    pending = [("first", work.file("backlog", kafka([sign(m.request) for m in messages])), 0)]
    seen: set[str] = set()
    final: dict[str, str] = {}
    failed_for_time = 0
    invocations, hops, started = 0, 0, time.perf_counter()
    busy_s = 0.0
    while pending:
        _, event, hop = pending.pop(0)
        run = run_child(work, "batch", "--function", "change_request", "--event", event, "--context", context)
        invocations += 1
        busy_s += run.output["wall_s"]
        hops = max(hops, hop)
        for request_id, outcome, _, _, _, errors, _ in run.output["results"]:
            if outcome == "deferred":
                continue
            final[request_id] = outcome
            failed_for_time += outcome == "failed" and "TIMEOUT" in errors
        records = cloud.control._call("GET", "functiongraph/invocations?function=change_request")["invocations"]
        for record in records:
            if record["request_id"] not in seen:
                seen.add(record["request_id"])
                payload = record["payload"]
                pending.append(
                    (record["request_id"], work.file("continuation", payload), payload["sgguard_continuation"]["hop"])
                )
    expected = {m.request_id: m.outcome for m in messages}
    wrong = sum(1 for rid, outcome in expected.items() if final.get(rid) != outcome)
    return {
        "messages": len(messages),
        "timeout_s": timeout_s,
        "invocations": invocations,
        "continuations": invocations - 1,
        "max_hop": hops,
        "final_outcomes": dict(Counter(final.values())),
        "without_final_outcome": len(expected) - len(set(final) & set(expected)),
        "failed_for_time": failed_for_time,
        "wrong_outcome": wrong,
        "busy_s": round(busy_s, 1),
        "wall_s": round(time.perf_counter() - started, 1),
    }
