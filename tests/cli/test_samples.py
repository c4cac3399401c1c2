"""Every sample under events/ runs through ``sgguard invoke`` against its own localcloud (the default
seed plus localcloud/seeds/samples.json) with the outcomes it is there to show; the printed summary
and the exit status agree with them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sgguard_cli.main import main as sgguard
from tests.support.events import EVENTS_DIR

ROOT = Path(__file__).resolve().parents[2]

# sample -> the outcomes of its results, in order (a sweep: the servers of the seed, then its summary)
SWEEP = ["drift_detected"] * 7 + ["summary"]
EXPECTED = {
    "change_request/apig.json": ["planned"],
    "change_request/apig_base64.json": ["succeeded"],
    "change_request/direct.json": ["succeeded"],
    "change_request/direct_list.json": ["planned", "succeeded"],
    "change_request/eventgrid.json": ["succeeded"],
    "change_request/kafka.json": ["succeeded", "planned", "succeeded"],
    "change_request/rabbitmq.json": ["succeeded"],
    "change_request/smn.json": ["succeeded"],
    "ecs_created/cts.json": ["succeeded"],
    "ecs_created/cts_batch.json": ["succeeded"] * 3,
    "ecs_created/cts_failed.json": ["skipped"],  # a failed creation: nothing to protect
    "ecs_created/cts_strings.json": ["succeeded"],
    "ecs_created/direct.json": ["succeeded"],
    "ecs_created/eventgrid.json": ["succeeded"],
    "sg_drift/cts.json": ["drift_detected"],
    "sg_drift/cts_own_change.json": ["skipped"],  # sgguard's own agency: never judged
    "sg_drift/cts_rule.json": ["drift_detected"],
    "sg_drift/direct.json": ["drift_detected"],
    "sg_drift/eventgrid.json": ["drift_detected"],
    "sg_drift/sweep.json": SWEEP,
    "sg_drift/timer.json": SWEEP,
}


def invoke(capsys, *argv: str) -> tuple[int, str, str]:
    environ = {k: v for k, v in os.environ.items() if k != "LOCALCLOUD_URL"}  # its own localcloud, always
    code = sgguard(["invoke", *argv], environ)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_sample_has_an_expected_outcome():
    samples = {str(p.relative_to(EVENTS_DIR)) for p in EVENTS_DIR.glob("*/*.json") if p.parent.name != "results"}
    assert samples == set(EXPECTED)


@pytest.mark.parametrize("sample", sorted(EXPECTED))
def test_the_sample_runs_with_its_outcomes_and_the_summary_says_so(capsys, sample):
    function = sample.split("/")[0]
    code, out, err = invoke(capsys, function, str(EVENTS_DIR / sample), "--json", "--quiet")
    response = json.loads(out)
    if "statusCode" in response:  # APIG: the integration response carries the results in its body
        assert response["statusCode"] == 200
        response = json.loads(response["body"])
    outcomes = [result["data"]["outcome"] for result in response["results"]]
    assert outcomes == EXPECTED[sample]
    assert code == 0
    total = len(outcomes)
    assert "returned in " in err and f"{total} result{'s' if total != 1 else ''}: " in err
    for outcome in set(outcomes):
        assert f"{outcomes.count(outcome)} {outcome}" in err
    if function == "change_request":
        assert "with the local key ticketing-1" in err
    if function == "ecs_created" and "skipped" not in outcomes:
        assert all("does not exist" not in json.dumps(r) for r in response["results"])


def test_a_rejected_sample_is_no_success_and_exits_1(capsys):
    code, out, err = invoke(capsys, "change_request", str(EVENTS_DIR / "change_request/kafka.json"), "--no-sign")
    assert code == 1
    assert "3 results: 3 rejected" in err and "succeeded" not in err
    assert "sgguard: error: 3 of 3 results rejected/failed/rolled_back" in err
    assert out.count("SIGNATURE_REQUIRED") == 3  # the table: one row per result


def test_a_dry_run_prints_its_plan_table_with_group_names(capsys):
    code, out, _ = invoke(capsys, "change_request", str(EVENTS_DIR / "change_request/apig.json"), "--quiet")
    assert code == 0
    assert out.splitlines()[0].split() == ["OUTCOME", "REQUEST", "SERVER", "DETAIL"]
    assert "plan (dry run, nothing written): 1 interface would change" in out
    [row] = [line for line in out.splitlines() if line.startswith("CHG-2026-0002  a1b2c3d4")]
    before, after = re.split(r"\s{2,}", row)[2:]
    assert before == "default, sample-app, sample-legacy"
    assert after == "sg-bastion-ssh, default, sample-app, sample-legacy"
    assert not out.lstrip().startswith("{")


def test_the_help_names_every_function_of_the_template(capsys):
    names = re.findall(r"^  - func_name: (\S+)", (ROOT / "template.yaml").read_text(), re.MULTILINE)
    assert len(names) == 3
    assert sgguard(["invoke", "--help"]) == 0
    text = capsys.readouterr().out
    for name in names:
        assert name in text.split("positional arguments:")[1].split("EVENT_FILE")[0]  # the argument's help
        assert f"sgguard invoke {name} events/{name}/" in text
