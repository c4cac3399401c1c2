"""The organisation sweep end to end on localcloud's runtime: the template deployed with ``sgguard
deploy``, every invocation a ``python`` process, the fan-out through FunctionGraph's
``invocations-async`` (the SDK), the Redis store the fixture starts (bench/org.py's OrgCloud,
small: the home project and 3 members, one without the agency, one with a wrong external id).

One summary per target; the broken members reported with their codes; the organisation summary
from the last target; never more instances at once than the function's maximum.
"""

from __future__ import annotations

from bench.org import OrgCloud, member_id, org_seed
from shared.errors import ErrorCode


def test_the_organisation_sweep_fans_out_on_the_runtime(redis_server, tmp_path):
    seed = org_seed(3, 5, no_agency=(1,), wrong_external_id=(2,))
    org = OrgCloud(seed, 3, redis_url=redis_server.url, build_dir=tmp_path)
    try:
        figures = org.sweep(timeout_s=240)
        results = [r["data"] for r in org.env.results("sg_drift")]
    finally:
        org.stop()
    assert figures["targets"] == 4 and figures["complete_targets"] == 2
    failed = {f["target"].split("/")[0]: f["code"] for f in figures["failed_targets"]}
    assert failed == {member_id(1): ErrorCode.AGENCY_MISSING, member_id(2): ErrorCode.ACCESS_DENIED}
    per_target = {t["target"]: t["servers"] for t in figures["per_target"]}
    assert per_target[member_id(0)] == 5 and per_target["home"] >= 5
    assert figures["invocations"] == 3  # the timer's plan, then one async invocation per reachable target
    assert figures["assume_calls_per_member_target"] == 1.0
    assert 1 <= figures["peak_instances"] <= figures["max_instances"]
    organisation = [r for r in results if (r.get("summary") or {}).get("kind") == "organisation"]
    assert len(organisation) == 1


def test_no_more_targets_run_at_once_than_the_functions_maximum_instances(redis_server, tmp_path):
    """Maximum instances 2 (the function's strategy_config, through UpdateFunctionConfig), 6
    targets: FunctionGraph's bound, not a scheduler of ours, keeps at most 2 running; all complete."""
    org = OrgCloud(org_seed(5, 3), 5, redis_url=redis_server.url, build_dir=tmp_path, function_max_instances=2)
    try:
        figures = org.sweep(timeout_s=240)
    finally:
        org.stop()
    assert figures["max_instances"] == 2 and figures["targets"] == 6 and figures["complete_targets"] == 6
    # 1 plan + 6 targets; a target that runs out of (wall) time on a loaded machine continues in one
    # more invocation, which the bound must hold just the same: at least 7, never more than 2 at once
    assert figures["invocations"] >= 7 and figures["peak_instances"] <= 2
