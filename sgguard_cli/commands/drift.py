"""``sgguard drift``: run sg_drift's own judgement against the cloud from a terminal or a CI job.

``drift sweep`` reads the project with the sweep's listings (:func:`shared.flows.sg_drift.sweep.
read_estate`, then the server pages) and judges every server with :func:`shared.flows.sg_drift.
steps.conclude` - report mode by default (no network handed over: it cannot write), ``--enforce``
repairs through the same rail step and ``Run.apply`` as the function. ``drift repair SERVER`` is
the function's direct ``{"server_id": ...}`` path in enforce mode: one server, read fresh.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..cloudargs import CREDENTIALS_HELP, add_cloud_arguments, cloud_target
from ..errors import Problems, UsageError, cloud_errors

__all__ = ["SUMMARY", "DETAILS", "EPILOG", "add_arguments", "run", "table", "printable"]

SUMMARY = "sg_drift from the terminal: sweep the project for drift (--enforce: repair it), or repair one server"
DETAILS = f"""
drift sweep: every server judged as sg_drift's hourly sweep judges it (the policy, the guard-rail
settings of the environment as in the function's user data: PROTECTED_GROUPS, RISKY_PORTS,
PIN_PROTECTED_FIRST, DRIFT_REMOVE_RISKY...). Without --enforce nothing is written. With --enforce
each drifted server is repaired through the guard rails, as DRIFT_MODE=enforce does. drift repair
SERVER: the same for one server, read fresh. Prints one line per server with findings (and a total);
--json prints the result events' data. Groups a recent sgguard change attached are kept only when
IDEMPOTENCY_STORE names the functions' shared store (the ledger lives there). {CREDENTIALS_HELP}.
Exit status: 0 no findings left, 1 findings left (or a server that could not be judged or does not
exist), 2 usage,
3 credentials, policy or a failed listing.
"""
EPILOG = """
examples:
  sgguard drift sweep --endpoint $LOCALCLOUD_URL        # report only: exit 1 on drift (a CI gate)
  sgguard drift sweep --region cn-north-4 --enforce     # repair what the policy requires
  sgguard drift repair c0000000-0000-4000-8000-000000000001 --json
"""

_PROBLEM_OUTCOMES = ("drift_detected", "failed", "skipped")  # skipped: a server to repair that does not exist


def printable(text: object) -> str:
    """A value from the cloud, safe for a terminal: control and format characters (an ANSI escape,
    a bidi override) shown as ``?``."""
    import unicodedata

    return "".join(c if unicodedata.category(c)[0] != "C" else "?" for c in str(text))


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(dest="drift_action", metavar="ACTION", required=True, parser_class=type(parser))
    sweep = actions.add_parser("sweep", help="judge every server (--enforce: repair)", description=SUMMARY)
    sweep.add_argument("--enforce", action="store_true", help="repair drift (default: report only, no write)")
    repair = actions.add_parser("repair", help="judge one server and repair it", description=SUMMARY)
    repair.add_argument("server", metavar="SERVER", help="the server's id")
    for sub in (sweep, repair):
        sub.add_argument("--policy", default="policy.yaml", metavar="FILE", help="the policy (default: policy.yaml)")
        sub.add_argument("--json", action="store_true", help="the result events' data as one JSON document")
        add_cloud_arguments(sub, endpoint_help="one URL for ECS and VPC (e.g. localcloud's)")
        sub.set_defaults(_parser=sub)


def run(args, ctx) -> int:
    from shared.model import is_uuid

    enforce = args.drift_action == "repair" or args.enforce
    if args.drift_action == "repair" and not is_uuid(args.server):
        raise UsageError("SERVER must be a server id (a lowercase UUID like c0000000-0000-4000-8000-000000000001)")
    with cloud_errors():
        cloud_run = _drift_run(args, ctx, enforce)
        if enforce and cloud_run.settings.idempotency_store == "memory" and cloud_run.settings.ledger_ttl_s:
            ctx.warn(
                "sgguard drift: IDEMPOTENCY_STORE is memory: groups that recent change requests attached "
                "(the functions' ledger) are not known here and may be removed by a repair"
            )
        results = _sweep(cloud_run) if args.drift_action == "sweep" else [_repair_one(cloud_run, args.server)]
    if args.json:
        ctx.out(json.dumps({"mode": "enforce" if enforce else "report", "results": results}, indent=2))
    else:
        for line in table(results):
            ctx.out(line)
    left = [r for r in results if r["outcome"] in _PROBLEM_OUTCOMES]
    if left:
        raise Problems(f"{len(left)} server(s) with findings left or not judged")
    return 0


def _drift_run(args, ctx, enforce: bool):
    """A Run of sg_drift with the caller's credentials, ``DRIFT_MODE`` from the flag, the policy loaded."""
    from shared import records
    from shared.flows.policy import load_policy

    from ..report.collect import make_run

    policy_path = Path(args.policy)
    if not policy_path.is_file():
        raise UsageError(f"--policy {args.policy}: no such file")
    target = cloud_target(args, ctx.environ)
    endpoints = {"ECS_ENDPOINT": target.endpoint("ecs"), "VPC_ENDPOINT": target.endpoint("vpc")}
    cloud_run = make_run(ctx.environ, region=target.region, endpoints=endpoints, credentials=target.credentials)
    # the terminal's run is never handed on to a continuation: every page in this process
    cloud_run.settings = records.replace(
        cloud_run.settings, drift_mode="enforce" if enforce else "report", drift_sweep_pages_per_invocation=0
    )
    cloud_run.resources["policy"] = load_policy(None, str(policy_path.resolve()), [])
    return cloud_run


def _sweep(cloud_run) -> list[dict[str, Any]]:
    """Every server's result ``data`` (with its name), as the sweep's pages give them."""
    from concurrent.futures import ThreadPoolExecutor

    from shared.cloud.gateway import CallCounter
    from shared.flows.sg_drift.sweep import read_estate

    inventory = cloud_run.inventory(CallCounter())
    estate = read_estate(inventory)
    request_id = "cli-sweep-" + cloud_run.clock.now().strftime("%Y%m%dT%H%M%SZ")
    results: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=cloud_run.settings.concurrency, thread_name_prefix="sgguard-drift") as pool:
        for page in inventory.server_pages(cloud_run.settings.drift_sweep_page):
            judged = pool.map(lambda server: _conclude(cloud_run, estate.facts(server), request_id), page)
            results.extend({**data, "server_name": server.name} for server, data in zip(page, judged))
    return sorted(results, key=lambda r: (r["server_name"] or "", r["server_id"]))


def _conclude(cloud_run, facts, request_id: str) -> dict[str, Any]:
    from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
    from shared.cloud.gateway import CallCounter
    from shared.flows.sg_drift.steps import conclude
    from shared.results import Identity
    from shared.runtime.run import cloud_failure

    counter = CallCounter()
    identity = Identity(request_id=request_id, server_id=facts.server.id)
    network = cloud_run.network(counter) if cloud_run.settings.drift_mode == "enforce" else None
    try:
        data = conclude(facts, identity, cloud_run, cloud_run.resources["policy"], network)
    except (CloudCallError, DeadlineExceeded) as error:  # one server's failure must not cost the sweep
        data = cloud_failure(error, identity)
    return data.replace(api_calls=counter.to_dict(), mode=cloud_run.settings.drift_mode).to_dict()


def _repair_one(cloud_run, server_id: str) -> dict[str, Any]:
    """The function's direct path: ``{"server_id": ...}`` judged from fresh reads, enforce mode."""
    from shared.flows.sg_drift.steps import DriftJob, process

    data = process(DriftJob(server_id, "cli-repair"), cloud_run).to_dict()
    return {**data, "server_name": None}


def table(results: list[dict[str, Any]]) -> list[str]:
    """One line per server that is not compliant (each finding below it), then the totals."""
    lines = [f"{'server':<24} {'id':<36}  {'outcome':<14} findings"]
    counts: dict[str, int] = {}
    for data in results:
        counts[data["outcome"]] = counts.get(data["outcome"], 0) + 1
        if data["outcome"] == "compliant":
            continue
        findings = data.get("findings") or []
        reason = data.get("reason") or "; ".join(e["message"] for e in data.get("errors") or [])
        name = data.get("server_name") or "-"
        what = len(findings) or printable(reason or "")
        lines.append(f"{printable(name)[:24]:<24} {data['server_id']:<36}  {data['outcome']:<14} {what}")
        for finding in findings:
            mark = "repaired" if finding.get("repaired") else "left"
            lines.append(
                f"  {finding['kind']:<20} port {finding['port_id']}  {mark:<8}  {printable(finding['message'])}"
            )
    if len(lines) == 1:
        lines.append("(every server compliant)")
    total = ", ".join(f"{outcome} {n}" for outcome, n in sorted(counts.items()))
    lines.append(f"{len(results)} server(s): {total or 'none'}")
    return lines
