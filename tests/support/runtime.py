"""Helpers of the local-runtime tests: a deployment wrapper, signed and dry-run change requests."""

from __future__ import annotations

import json
import time

from sgguard_cli.localenv import LocalEnv

__all__ = ["Deployer", "signed", "dry_run_request"]


class Deployer:
    """A LocalEnv with a deploy helper that turns optional triggers on."""

    def __init__(self, env: LocalEnv):
        self.env = env

    def __getattr__(self, name):
        return getattr(self.env, name)

    def deploy(self, *, rabbitmq=False, smn=False, apig=False, eventgrid=False, **parameters) -> dict:
        values = self.env.trigger_parameters(rabbitmq=rabbitmq, smn=smn, apig=apig, eventgrid=eventgrid)
        values.update(parameters)
        self.env.deploy(build_dir=self.env.build_dir, **values)
        return values

    def functions(self) -> dict:
        return self.env.cloud.state()["projects"][self.env.cloud.project_id]["functiongraph"]["functions"]

    def invocations(self, function: str) -> list[dict]:
        return self.env.cloud._call("GET", f"functiongraph/invocations?function={function}")["invocations"]

    def wait_results(self, function: str, count: int, timeout_s: float = 30.0, **match) -> list[dict]:
        def found():
            results = [r for r in self.env.results(function) if all(r["data"].get(k) == v for k, v in match.items())]
            return results if len(results) >= count else None

        results = self.env.wait_for(found, timeout_s)
        assert results, (
            f"fewer than {count} {function} results {match} within {timeout_s} s: "
            f"{[r['data'].get('outcome') for r in self.env.results(function)]}"
        )
        return results

    def wait_executions(self, predicate, count: int = 1, timeout_s: float = 30.0) -> list[dict]:
        def found():
            executions = [e for e in self.env.executions() if predicate(e)]
            return executions if len(executions) >= count else None

        executions = self.env.wait_for(found, timeout_s)
        assert executions, f"fewer than {count} matching executions within {timeout_s} s"
        return executions

    def port_groups(self, server_id: str) -> list[list[str]]:
        """Group names per port of a server (creation order), in priority order."""
        state = self.env.cloud.state()["projects"][self.env.cloud.project_id]["vpc"]
        names = {sg["id"]: sg["name"] for sg in state["security_groups"]}
        return [
            [names.get(g, g) for g in port["security_groups"]]
            for port in state["ports"]
            if port["device_id"] == server_id
        ]


def signed(request: dict, keys: dict) -> str:
    from shared.signing import sign_request

    key_id, secret = next(iter(keys.items()))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return json.dumps(sign_request(request, key_id=key_id, secret=secret, timestamp=stamp))


def dry_run_request(number: int, server_id: str = "c0000000-0000-4000-8000-000000000001", groups=("db",)) -> dict:
    return {
        "request_id": f"CHG-TEST-{number:04d}",
        "ticket": {"system": "servicenow", "id": f"CHG{number:07d}", "requested_by": "alice@example.com"},
        "target": {"server_id": server_id, "nics": "primary"},
        "change": {"action": "add", "security_groups": [{"name": g} for g in groups], "position": 0},
        "dry_run": True,
    }
