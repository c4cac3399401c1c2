"""Quiet by default: a sink takes the outcomes its RESULT_SINKS entry lists, and sg_drift's skips
of sgguard's own changes reach the log only (unless a sink asks for them) — through the real
handlers and a real SMN topic in localcloud."""

from __future__ import annotations

import json

import pytest

from shared.config import ConfigError, load_settings
from shared.errors import ErrorCode
from tests.functional.test_sg_drift import baselined, console_remove, traces  # noqa: F401 - fixtures
from tests.support.functions import Invoker
from tests.support.requests import LEGACY, LEGACY_PORTS, SG, change_request, kafka
from tests.support.sinks import results_of, sinks, smn_messages, user_data


def test_a_sink_takes_only_the_outcomes_it_lists(cloud, change, topic):
    requests = [change_request("add", [{"name": "web"}]), change_request("add", [{"name": "nope"}])]
    entry = {"type": "smn", "topic_urn": topic, "outcomes": ["rejected", "failed"]}
    response = change(kafka(*requests), **user_data(cloud, RESULT_SINKS=sinks(entry)))
    assert [r["data"]["outcome"] for r in results_of(response)] == ["succeeded", "rejected"]
    assert response["delivery"]["smn"] == {"delivered": 1, "undelivered": 0, "filtered": 1}
    assert response["delivery"]["log"]["delivered"] == 2  # the log has every result
    [message] = smn_messages(cloud, topic)
    assert json.loads(message["message"])["data"]["outcome"] == "rejected"


def _own_change_trace(cloud, vpc_v3, traces):  # noqa: F811
    console_remove(vpc_v3, LEGACY_PORTS[0], SG["baseline"])
    drift = Invoker(cloud, "sg_drift")
    [repair] = drift({"server_id": LEGACY}, DRIFT_MODE="enforce")["results"]
    assert repair["data"]["outcome"] == "repaired"
    return [t for t in traces if t["user"].get("type") == "AssumedAgency"][-1]


@pytest.mark.parametrize("own_changes", [False, True])
def test_own_change_skips_reach_no_sink_unless_asked(cloud, vpc_v3, traces, baselined, topic, own_changes):  # noqa: F811
    own = _own_change_trace(cloud, vpc_v3, traces)
    entry = {"type": "smn", "topic_urn": topic, **({"own_changes": True} if own_changes else {})}
    response = Invoker(cloud, "sg_drift")({"cts": own}, **user_data(cloud, RESULT_SINKS=sinks(entry)))
    [result] = response["results"]
    assert result["data"]["outcome"] == "skipped"
    assert [w["code"] for w in result["data"]["warnings"]] == [ErrorCode.OWN_CHANGE]
    assert response["delivery"]["log"]["delivered"] == 1  # always in the log, counted there
    published = smn_messages(cloud, topic)
    if own_changes:
        assert len(published) == 1 and response["delivery"]["smn"]["delivered"] == 1
    else:
        assert published == [] and response["delivery"]["smn"] == {"delivered": 0, "undelivered": 0, "filtered": 1}


def test_other_skips_still_reach_the_sinks(cloud, topic):
    trace = {"trace_id": "t-1", "trace_name": "listPorts", "user": {"type": "User", "name": "bob"}}
    response = Invoker(cloud, "sg_drift")(
        {"cts": trace}, **user_data(cloud, RESULT_SINKS=sinks({"type": "smn", "topic_urn": topic}))
    )
    [result] = response["results"]
    assert result["data"]["outcome"] == "skipped" and not result["data"]["warnings"]
    assert len(smn_messages(cloud, topic)) == 1


@pytest.mark.parametrize(
    "entry",
    [
        {"type": "smn", "outcomes": ["succeded"]},
        {"type": "smn", "outcomes": []},
        {"type": "smn", "outcomes": "failed"},
        {"type": "smn", "own_changes": "yes"},
    ],
)
def test_a_bad_filter_fails_loudly_with_the_setting_name(entry):
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"RESULT_SINKS": json.dumps([entry])})
    assert "RESULT_SINKS" in str(raised.value)
