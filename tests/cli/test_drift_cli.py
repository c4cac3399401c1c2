"""``sgguard drift`` against localcloud: sg_drift's own verdicts from the terminal, report mode
writes nothing, ``--enforce`` repairs, the exit status says whether findings are left."""

from __future__ import annotations

import io
import json

import pytest

from sgguard_cli.commands.drift import printable
from sgguard_cli.main import main
from tests.support.functions import Invoker
from tests.support.report import DB_PORT, make_estate, report_environ
from tests.support.requests import SG
from tests.support.state import port_groups, writes_since


def drift(cloud, *argv: str, environ: dict | None = None, **extra: str) -> tuple[int, str, str]:
    lines: list[str] = []
    err = io.StringIO()
    environ = environ or report_environ(cloud, **extra)
    code = main(["drift", *argv, "--endpoint", cloud.url], environ, out=lines.append, err=err)
    return code, "\n".join(lines), err.getvalue()


def test_sweep_reports_drift_writes_nothing_and_exits_1(cloud, vpc_v3):
    ids = make_estate(cloud, vpc_v3)
    seq = cloud.last_seq()
    code, out, err = drift(cloud, "sweep")
    assert code == 1, err
    assert "1 server(s) with findings left" in err
    assert writes_since(cloud, seq) == []
    assert f"db-01                    {ids['drifted']}  drift_detected 2" in out
    assert ids["compliant"] not in out  # a compliant server is only counted
    assert "missing_group" in out and "exposure" in out
    assert out.splitlines()[-1] == "2 server(s): compliant 1, drift_detected 1"


def test_sweep_verdicts_are_the_functions_own(cloud, vpc_v3):
    make_estate(cloud, vpc_v3)
    code, out, _ = drift(cloud, "sweep", "--json")
    assert code == 1
    document = json.loads(out)
    assert document["mode"] == "report"
    mine = {r["server_id"]: r for r in document["results"]}
    *swept, _summary = Invoker(cloud, "sg_drift")({"sweep": {}}, PROTECTED_GROUPS="baseline")["results"]
    for result in swept:
        data = result["data"]
        assert (mine[data["server_id"]]["outcome"], mine[data["server_id"]]["findings"]) == (
            data["outcome"],
            data["findings"],
        )
    assert len(mine) == len(swept)


def test_enforce_repairs_what_the_policy_requires_and_then_the_sweep_is_clean(cloud, vpc_v3):
    ids = make_estate(cloud, vpc_v3)
    code, out, err = drift(cloud, "sweep", "--enforce")
    assert code == 1  # the exposure is reported, not removed (DRIFT_REMOVE_RISKY=false)
    assert "IDEMPOTENCY_STORE is memory" in err  # the ledger of ticket changes is not known here
    assert port_groups(cloud, DB_PORT)[0] == SG["baseline"]
    code, out, err = drift(cloud, "sweep", "--enforce", DRIFT_REMOVE_RISKY="true")
    assert code == 0, out + err
    assert f"{ids['drifted']}  repaired" in out
    code, out, _ = drift(cloud, "sweep")
    assert code == 0 and "(every server compliant)" in out


def test_repair_one_server(cloud, vpc_v3):
    ids = make_estate(cloud, vpc_v3)
    seq = cloud.last_seq()
    code, out, _ = drift(cloud, "repair", ids["drifted"], "--json", DRIFT_REMOVE_RISKY="true")
    assert code == 0, out
    [data] = json.loads(out)["results"]
    assert (data["outcome"], data["mode"]) == ("repaired", "enforce")
    assert writes_since(cloud, seq)
    assert port_groups(cloud, DB_PORT)[0] == SG["baseline"]


def test_repairing_a_server_that_does_not_exist_is_exit_1(cloud):
    code, out, _ = drift(cloud, "repair", "c0000000-0000-4000-8000-00000000ffff")
    assert code == 1 and "skipped" in out and "no longer exists" in out


@pytest.mark.parametrize("server", ["C0000000-0000-4000-8000-000000000002", "../ports", "1", "c0000000-0000-4000-8000"])
def test_repair_refuses_a_server_that_is_not_an_id_before_any_call(cloud, server):
    seq = cloud.last_seq()
    code, _, err = drift(cloud, "repair", server)
    assert code == 2 and "SERVER must be a server id" in err
    assert cloud.requests(seq) == []


def test_a_missing_policy_file_is_a_usage_error(cloud):
    code, _, err = drift(cloud, "sweep", "--policy", "no-such.yaml")
    assert code == 2 and "--policy no-such.yaml: no such file" in err


def test_names_from_the_cloud_cannot_drive_the_terminal():
    assert printable("db\x1b[2J\u202eevil") == "db?[2J?evil"


def test_refused_credentials_are_exit_3_with_one_line(cloud):
    environ = {**report_environ(cloud), "HUAWEICLOUD_SDK_SK": "not-the-secret-key-at-all"}
    code, out, err = drift(cloud, "sweep", environ=environ)
    assert code == 3 and out == ""
    assert err.startswith("sgguard: error: ") and "401" in err and err.count("\n") == 1, err
