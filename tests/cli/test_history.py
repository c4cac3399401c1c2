"""``sgguard history SERVER`` against localcloud: the traces of each interface (CTS ListTraces by
resource id) as who / when / what, sgguard's own changes recognised by its agency and given their
ticket from the result events."""

from __future__ import annotations

import io
import json
import time

import pytest

from sgguard_cli.commands.history import Change, match_results
from sgguard_cli.main import main
from tests.support.functions import Invoker
from tests.support.report import insert, report_environ
from tests.support.requests import DB, LEGACY, LEGACY_PORTS, SG, change_request


def history(cloud, *argv: str) -> tuple[int, str, str]:
    lines: list[str] = []
    err = io.StringIO()
    code = main(["history", *argv, "--endpoint", cloud.url], report_environ(cloud), out=lines.append, err=err)
    return code, "\n".join(lines), err.getvalue()


@pytest.fixture
def changed(cloud, vpc_v3, tmp_path):
    """A person inserts web on legacy-app-01's primary interface; then a signed ticket adds
    monitoring through change_request; an unrelated change on db-01. Returns the results file."""
    insert(vpc_v3, LEGACY_PORTS[0], SG["web"], 0)
    insert(vpc_v3, "d0000000-0000-4000-8000-000000000003", SG["web"])  # db-01: not this server's
    request = change_request("add", [{"name": "monitoring"}])  # a fresh request id: the replay guard outlives a test
    response = Invoker(cloud, "change_request")(request)
    assert response["results"][0]["data"]["outcome"] == "succeeded"
    path = tmp_path / "results.jsonl"
    lines = ["START RequestId: 1", *(json.dumps(event) for event in response["results"]), "END"]  # a log, as exported
    path.write_text("\n".join(lines) + "\n")
    return path, request["request_id"]


def test_who_when_what_and_the_ticket(cloud, changed):
    path, request_id = changed
    code, out, err = history(cloud, LEGACY, "--results", str(path))
    assert code == 0, err
    header, *rows = out.splitlines()[1:]
    assert len(rows) == 2, out  # db-01's change is not read
    person, ticket = rows
    assert "localcloud " in person and "+ web at 0" in person and person.rstrip().endswith("-")
    assert "sgguard (sgguard-functions)" in ticket and "+ monitoring last" in ticket
    assert ticket.rstrip().endswith(f"servicenow CHG0031337 ({request_id})")
    assert "10.0.2.10" in person  # the interface by its address


def test_without_results_an_sgguard_change_says_so(cloud, changed):
    code, out, _ = history(cloud, LEGACY)
    assert code == 0
    assert "sgguard (no result event matched: --results)" in out


def test_json_has_every_field(cloud, changed):
    path, request_id = changed
    code, out, _ = history(cloud, LEGACY, "--results", str(path), "--json")
    assert code == 0
    document = json.loads(out)
    assert (document["server_id"], document["server"]) == (LEGACY, "legacy-app-01")
    person, mine = document["changes"]
    assert (person["by_sgguard"], person["action"], person["groups"], person["index"]) == (
        False,
        "insert",
        [SG["web"]],
        0,
    )
    assert (mine["by_sgguard"], mine["request_id"], mine["ticket"]["id"], mine["function"]) == (
        True,
        request_id,
        "CHG0031337",
        "change_request",
    )
    assert mine["interface"] == LEGACY_PORTS[0] and mine["what"] == "+ monitoring last"


def _trace(trace_id, name, request, *, user=None, code="200", resource_id=LEGACY_PORTS[1], service="VPC"):
    return {
        "trace_id": trace_id,
        "trace_name": name,
        "service_type": service,
        "resource_type": "ports" if service == "VPC" else "ecs",
        "resource_id": resource_id,
        "code": code,
        "time": int(time.time() * 1000),
        "user": user or {"type": "User", "name": "carol"},
        "request": json.dumps(request),
    }


def test_every_kind_of_change_and_a_person_posing_as_the_agency(cloud):
    port = LEGACY_PORTS[1]
    only_db = {"port": {"security_groups": [SG["db"]]}}
    posing = {"type": "User", "name": "sgguard-functions/x"}
    cloud.cts_traces(
        [
            _trace("t1", "updatePort", {"port": {"security_groups": [SG["baseline"], SG["app"]]}}),
            _trace("t2", "removeSecurityGroups", {"port": {"security_groups": [SG["app"]]}}),
            _trace("t3", "addSecurityGroups", {"port": {"security_groups": [SG["db"]]}}, code="403"),
            _trace("t4", "addSecurityGroup", {"addSecurityGroup": {"name": "web"}}, resource_id=LEGACY, service="ECS"),
            _trace("t5", "createSecurity-group-rule", {}, resource_id=port),  # not a change of the port's groups
            _trace("t6", "updatePort", only_db, user=posing),
            _trace("t7", "updatePort", only_db, user={"name": "evil\x1b[2Jname"}),
        ]
    )  # fmt: skip
    code, out, _ = history(cloud, LEGACY, "--json")
    assert code == 0
    rows = {c["trace_id"]: c for c in json.loads(out)["changes"]}
    assert set(rows) == {"t1", "t2", "t3", "t4", "t6", "t7"}
    assert rows["t1"]["what"] == "= baseline > app"
    assert rows["t2"]["what"] == "- app"
    assert rows["t3"]["what"] == "addSecurityGroups (code 403): nothing changed"
    assert (rows["t4"]["interface"], rows["t4"]["what"]) == ("all", "+ web (every interface)")
    assert rows["t6"]["by_sgguard"] is False  # a User named like the agency is a person
    code, out, _ = history(cloud, LEGACY)
    assert "\x1b" not in out and "evil?[2Jname" in out


def test_matching_needs_the_same_interface_groups_that_agree_and_the_time_window():
    change = Change("", 1_000_000, "sgguard-functions/s", True, "p1", "addSecurityGroups", "insert", ["g1"])

    def result(port="p1", after=("g1",), at=1_001_000, server=LEGACY):
        nic = {"port_id": port, "after": list(after), "status": "changed"}
        return {"server_id": server, "outcome": "succeeded", "nics": [nic], "_time_ms": at, "request_id": "R"}

    for wrong in (result(port="p2"), result(after=("g2",)), result(at=1_000_000 + 901_000), result(server=DB)):
        match_results([change], [wrong], LEGACY)
        assert change.request_id is None, wrong
    match_results([change], [result(at=1_300_000), result(at=1_001_000) | {"request_id": "NEAR"}], LEGACY)
    assert change.request_id == "NEAR"


@pytest.mark.parametrize("argv", [["C0000000-0000-4000-8000-000000000001"], ["../x"], [LEGACY, "--days", "8"]])
def test_bad_input_is_refused_before_any_call(cloud, argv):
    seq = cloud.last_seq()
    code, _, err = history(cloud, *argv)
    assert code == 2 and ("SERVER must be a server id" in err or "--days must be within 1..7" in err)
    assert cloud.requests(seq) == []


def test_a_creation_policy_change_is_named_by_its_function_and_trace(cloud, ecs, tmp_path):
    from tests.support.ecs import create_servers, cts_event, cts_trace

    cloud.settings(build_delay_ms=50)
    job, [server] = create_servers(ecs, "web-01", tags={"env": "prod", "role": "web-frontend"})
    trace = cts_trace([server], job)
    response = Invoker(cloud, "ecs_created")(cts_event(trace), READINESS_POLL_S="0.05", READINESS_MAX_WAIT_S="10")
    assert response["results"][0]["data"]["outcome"] == "succeeded"
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in response["results"]))
    code, out, _ = history(cloud, server, "--results", str(path), "--json")
    assert code == 0
    rows = json.loads(out)["changes"]
    assert [r["action"] for r in rows] == ["insert", "remove"]  # the policy's groups, then default out
    assert {(r["by_sgguard"], r["function"], r["request_id"]) for r in rows} == {
        (True, "ecs_created", trace["trace_id"])
    }
    code, out, _ = history(cloud, server, "--results", str(path))
    assert f"ecs_created {trace['trace_id']}" in out
