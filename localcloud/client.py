"""A small client of the control API, for tests, the demo and benchmarks (stdlib only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

__all__ = ["ControlClient", "ControlError"]


class ControlError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(f"control API answered {status}: {body}")
        self.status = status
        self.body = body


class ControlClient:
    def __init__(self, url: str):
        self.url = url.rstrip("/")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_localcloud/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raw = error.read()
            raise ControlError(error.code, json.loads(raw) if raw else None) from None
        return json.loads(raw) if raw else None

    def reset(self, empty: bool = False) -> dict:
        return self._call("POST", "reset", {"empty": empty})

    def seed(self, document: dict) -> dict:
        return self._call("POST", "seed", document)

    def state(self) -> dict:
        return self._call("GET", "state")

    def requests(self, since: int = 0) -> list[dict]:
        return self._call("GET", f"requests?since={since}")["requests"]

    def last_seq(self) -> int:
        entries = self.requests()
        return entries[-1]["seq"] if entries else 0

    def add_fault(self, **rule: Any) -> dict:
        return self._call("POST", "faults", rule)["rules"][0]

    def faults(self) -> list[dict]:
        return self._call("GET", "faults")["rules"]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def add_route(self, vpc_id: str, destination: str, type: str, nexthop: str = "", project_id: str | None = None):
        """A route in the VPC's default route table (e.g. a NAT gateway's 0.0.0.0/0)."""
        body = {
            "vpc_id": vpc_id,
            "destination": destination,
            "type": type,
            "nexthop": nexthop,
            "project_id": project_id,
        }
        return self._call("POST", "vpc/routes", body)["routetable"]

    def cts_operations(self, operations: list[dict], project_id: str | None = None) -> None:
        """Replace the trace names CTS ListOperations answers with."""
        self._call("POST", "cts/operations", {"operations": operations, "project_id": project_id})

    def cts_traces(self, traces: list[dict], project_id: str | None = None) -> None:
        """Record traces as CTS would (ListTraces answers them)."""
        self._call("POST", "cts/traces", {"traces": traces, "project_id": project_id})

    def settings(self, **values: int) -> dict:
        return self._call("POST", "settings", values)

    def temporary_credentials(self, project_id: str, ttl_s: int = 3600) -> dict:
        return self._call("POST", "credentials/temporary", {"project_id": project_id, "ttl_s": ttl_s})
