"""sg_drift and sgguard's own changes: the agency is recognised in every documented form of a
trace's ``user``, and where it is not (a bare ``{domain, name, id}``), judging the change never
undoes it: a repair keeps every group a recent sgguard change added (the ledger)."""

from __future__ import annotations

import pytest

from shared.errors import ErrorCode
from tests.functional.test_sg_drift import baselined, drift, traces  # noqa: F401 - fixtures
from tests.support.functions import Invoker
from tests.support.requests import LEGACY, LEGACY_PORTS, SG, change_request, kafka
from tests.support.state import port_groups, writes_since

FORMS = {0: "the SDK model (principal_urn)", 1: "the older examples (<domain>/<agency>)"}


def _added_by_a_ticket(cloud, group: str, *, approved_by: str | None = None) -> None:
    change = Invoker(cloud, "change_request")
    request = change_request("add", [{"name": group}], nics="all", approved_by=approved_by)
    [result] = change(kafka(request))["results"]
    assert result["data"]["outcome"] == "succeeded", result["data"]


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_trace_of_sgguards_change_is_recognised_in_every_documented_form(
    cloud,
    drift,
    traces,
    baselined,
    form,  # noqa: F811
):
    cloud.settings(agency_trace_form=form)
    _added_by_a_ticket(cloud, "web")
    [trace] = [t for t in traces if t["trace_name"] == "addSecurityGroups"][-1:]
    seq = cloud.last_seq()
    [data] = drift({"cts": trace}, DRIFT_MODE="enforce")
    assert data["outcome"] == "skipped" and "own agency" in data["reason"], (FORMS[form], trace["user"], data)
    assert cloud.requests(seq) == []


def test_a_bare_user_is_not_taken_for_sgguard_and_its_change_is_judged(
    cloud,
    drift,
    traces,
    baselined,  # noqa: F811
):
    cloud.settings(agency_trace_form=2)
    _added_by_a_ticket(cloud, "web")
    [trace] = [t for t in traces if t["trace_name"] == "addSecurityGroups"][-1:]
    assert set(trace["user"]) == {"domain", "name", "id"}
    [data] = drift({"cts": trace}, DRIFT_MODE="enforce")
    assert data["outcome"] == "compliant", data  # judged: the ticket's group is allowed by the policy


def test_a_repair_never_removes_what_a_recent_ticket_added(cloud, drift, traces, baselined):  # noqa: F811
    """The risky group a ticket added, with approval: a bare trace is judged, the exposure found,
    and even with DRIFT_REMOVE_RISKY the repair keeps the group (RECENTLY_ADDED), with no write."""
    cloud.settings(agency_trace_form=2)
    _added_by_a_ticket(cloud, "ssh-open", approved_by="bob@example.com")
    assert SG["ssh-open"] in port_groups(cloud, LEGACY_PORTS[0])
    [trace] = [t for t in traces if t["trace_name"] == "addSecurityGroups"][-1:]
    seq = cloud.last_seq()
    [data] = drift({"cts": trace}, DRIFT_MODE="enforce", DRIFT_REMOVE_RISKY="true")
    assert data["outcome"] == "drift_detected", data
    assert any(f["kind"] == "exposure" for f in data["findings"])
    assert {w["code"] for w in data["warnings"]} >= {ErrorCode.RECENTLY_ADDED}
    assert writes_since(cloud, seq) == []
    assert all(SG["ssh-open"] in port_groups(cloud, port) for port in LEGACY_PORTS)


def test_once_the_ledger_forgets_the_repair_removes_it(cloud, drift, traces, baselined):  # noqa: F811
    """The control: with no ledger (LEDGER_TTL_S=0 for the ticket), the same repair removes the group."""
    change = Invoker(cloud, "change_request")
    request = change_request("add", [{"name": "ssh-open"}], nics="all", approved_by="bob@example.com")
    [result] = change(kafka(request), LEDGER_TTL_S="0")["results"]
    assert result["data"]["outcome"] == "succeeded"
    [data] = drift({"server_id": LEGACY}, DRIFT_MODE="enforce", DRIFT_REMOVE_RISKY="true")
    assert data["outcome"] == "repaired", data
    assert not any(SG["ssh-open"] in port_groups(cloud, port) for port in LEGACY_PORTS)
