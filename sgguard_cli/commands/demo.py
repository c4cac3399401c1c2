"""``sgguard demo`` (= ``make demo``): the whole function set, end to end, locally against localcloud.

1. starts localcloud with the local FunctionGraph runtime (in this process, on a free port);
2. packages the functions (sgguard package --local-dependencies) and deploys template.yaml into
   it with the deploy command (through the FunctionGraph SDK), results going to the log and to an
   SMN topic (RESULT_SINKS), PROTECTED_GROUPS=baseline;
3. creates four servers through the ECS SDK, tagged so that different rules of policy.yaml match;
   localcloud's CTS trigger runs ecs_created for each once it is ACTIVE;
4. publishes signed change requests to the DMS Kafka topic in one batch: normal ones, a dry run,
   an invalid one, forbidden ones (a risky group without approval, removing a protected group) and
   one whose signature does not match; the Kafka trigger runs change_request;
5. waits for every result event, reads the servers back, and prints per server and interface the
   groups at creation, after each step and now (in priority order, by name) with the outcomes, then
   every result event and where it went (function log line, SMN topic message).

Exits 1 if anything expected did not happen (each check is listed), 0 otherwise.

Over 400 lines: the demo is one script a newcomer reads top to bottom, setup to the final table.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from ..localenv import KAFKA_TOPIC, LocalEnv

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run"]

SUMMARY = "run the whole function set end to end against localcloud and report (= make demo)"
DETAILS = """
Starts localcloud with the local FunctionGraph runtime, packages and deploys template.yaml into it,
creates four servers (the CTS trigger runs ecs_created), publishes eight signed change requests to
the Kafka topic (normal, dry run, invalid, forbidden, tampered), and prints per server and
interface the groups before and after with each outcome and where every result event went. Phases
are counted on stderr. Exit status: 0 every check passed, 1 one failed (each check is listed).
"""
EPILOG = """
examples:
  sgguard demo                      # = make demo (about 5 s)
  sgguard demo --verbose            # every execution with the handler's log lines
  sgguard demo --keep-running       # leave localcloud up after the report (Ctrl-C ends)
"""
STEPS = 11

VPC_ID = "9d2f1c3a-0b6e-4e7a-9a51-1f0c2b3d4e50"  # localcloud's default seed
SUBNETS = {
    "web": "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d01",
    "app": "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d02",
    "mgmt": "5b1e7c2d-3a4f-4b6c-8d9e-0f1a2b3c4d03",
}

# name, tags, subnets (first = primary), what the policy should do
SERVERS = [
    (
        "web-01",
        {"env": "prod", "role": "web"},
        ["web"],
        "prod web server: baseline first, default replaced by web, monitoring",
    ),
    ("app-01", {"env": "prod", "role": "app"}, ["app"], "prod app server named app-*: baseline, app, monitoring"),
    ("ops-01", {"env": "dev"}, ["web", "mgmt"], "second NIC in the management subnet: mgmt-ssh there only"),
    ("vendor-01", {"env": "prod", "role": "web", "sg-automation": "skip"}, ["web"], "opted out: left alone"),
]
EXPECTED_CREATED = {  # server -> (outcome, groups per NIC in NIC order)
    "web-01": ("succeeded", [["baseline", "web", "monitoring"]]),
    "app-01": ("succeeded", [["baseline", "app", "monitoring"]]),
    "ops-01": ("succeeded", [["baseline", "default"], ["baseline", "default", "mgmt-ssh"]]),
    "vendor-01": ("skipped", [["default"]]),
}
EXPECTED_FINAL = {
    "web-01": [["baseline", "monitoring", "web"]],
    "app-01": [["baseline", "app", "monitoring", "db"]],
    "ops-01": [["baseline", "default"], ["baseline", "mgmt-ssh"]],
    "vendor-01": [["default"]],
}


class Checks:
    def __init__(self) -> None:
        self.items: list[tuple[bool, str]] = []

    def check(self, ok: bool, what: str) -> bool:
        self.items.append((bool(ok), what))
        return bool(ok)

    @property
    def failed(self) -> list[str]:
        return [what for ok, what in self.items if not ok]


def change_requests(ids: dict) -> list[tuple[dict, dict]]:
    """(request, expectation) in queue order. Expectation: outcome, error code, note."""
    ticket = {"system": "servicenow", "requested_by": "alice@example.com", "approved_by": "bob@example.com"}

    def request(number: int, server: str, change: dict, *, nics="primary", dry_run=False, **ticket_fields) -> dict:
        body: dict[str, Any] = {
            "request_id": f"CHG-DEMO-{number:04d}",
            "ticket": {**ticket, "id": f"CHG00{number:05d}", **ticket_fields},
            "target": {"server_id": ids[server], "nics": nics},
            "change": change,
        }
        if dry_run:
            body["dry_run"] = True
        return body

    invalid = request(6, "web-01", {"action": "add", "security_groups": [{"name": "db"}]})
    del invalid["change"]  # required by the schema
    invalid["target"]["nics"] = "every"  # not primary / all / selectors
    return [
        (
            request(1, "app-01", {"action": "add", "security_groups": [{"name": "db"}], "position": 1}, dry_run=True),
            {"outcome": "planned", "note": "dry run: add db at priority 2 on app-01 (nothing changes)"},
        ),
        (
            request(2, "app-01", {"action": "add", "security_groups": [{"name": "db"}]}),
            {"outcome": "succeeded", "note": "add db last on app-01"},
        ),
        (
            request(
                3,
                "web-01",
                {
                    "action": "reorder",
                    "security_groups": [{"name": "baseline"}, {"name": "monitoring"}, {"name": "web"}],
                },
            ),
            {"outcome": "succeeded", "note": "reorder web-01: monitoring before web"},
        ),
        (
            request(
                4,
                "web-01",
                {"action": "add", "security_groups": [{"name": "ssh-open"}]},
                approved_by="alice@example.com",
            ),
            {
                "outcome": "rejected",
                "code": "RISKY_RULE",
                "note": "forbidden: SSH open to the world, approved by the requester",
            },
        ),
        (
            request(5, "ops-01", {"action": "remove", "security_groups": [{"name": "baseline"}]}, nics="all"),
            {
                "outcome": "rejected",
                "code": "PROTECTED_GROUP",
                "note": "forbidden: remove the protected baseline group",
            },
        ),
        (invalid, {"outcome": "rejected", "code": "SCHEMA_VIOLATION", "note": "invalid: no change, bad nics"}),
        (
            request(
                7,
                "ops-01",
                {"action": "replace", "security_groups": [{"name": "baseline"}, {"name": "mgmt-ssh"}]},
                nics=[{"subnet_id": SUBNETS["mgmt"]}],
            ),
            {"outcome": "succeeded", "note": "replace the groups of ops-01's management NIC (selected by subnet)"},
        ),
        (
            request(8, "vendor-01", {"action": "add", "security_groups": [{"name": "web"}]}),
            {
                "outcome": "rejected",
                "code": "SIGNATURE_INVALID",
                "tamper": True,
                "note": "signature does not match (changed after signing)",
            },
        ),
    ]


def create_server(ecs, name: str, tags: dict, subnets: list[str]) -> tuple[str, str]:
    from huaweicloudsdkecs.v2 import (
        CreatePostPaidServersRequest,
        CreatePostPaidServersRequestBody,
        PostPaidServer,
        PostPaidServerNic,
        PostPaidServerTag,
    )

    server = PostPaidServer(
        name=name,
        flavor_ref="s6.large.2",
        image_ref="img-demo",
        vpcid=VPC_ID,
        nics=[PostPaidServerNic(subnet_id=SUBNETS[s]) for s in subnets],
        server_tags=[PostPaidServerTag(key=k, value=v) for k, v in tags.items()],
    )
    response = ecs.create_post_paid_servers(
        CreatePostPaidServersRequest(body=CreatePostPaidServersRequestBody(server=server))
    )
    return response.job_id, response.server_ids[0]


def read_server(env: LocalEnv, server_id: str) -> dict:
    """sgguard show's view: interfaces (primary first) with their groups in priority order."""
    from shared.cloud.clients import AgencyCredentials, ClientFactory
    from shared.config import load_settings

    from .show import describe

    cloud = env.cloud
    settings = load_settings(None, {"REGION": cloud.region, "ECS_ENDPOINT": cloud.url, "VPC_ENDPOINT": cloud.url})
    view = describe(server_id, ClientFactory(AgencyCredentials(cloud.ak, cloud.sk, None, cloud.project_id), settings))
    view["interfaces"].sort(key=lambda nic: not nic["primary"])
    return view


def names(group_ids: list[str], catalog: dict) -> list[str]:
    return [catalog.get(gid, gid[:8]) for gid in group_ids]


def arrow(groups: list[str] | None) -> str:
    return " > ".join(groups) if groups else "(none)"


def add_arguments(parser) -> None:
    parser.add_argument("--verbose", action="store_true", help="print every execution and its log lines")
    parser.add_argument("--keep-running", action="store_true", help="serve localcloud after the report (Ctrl-C ends)")
    parser.add_argument("--timeout", type=float, default=40.0, help="seconds to wait for each phase's results")


def run(args, ctx) -> int:
    started = time.monotonic()
    checks = Checks()
    out = ctx.out
    progress = ctx.progress(STEPS, "demo")

    def stamp() -> str:
        return f"[{time.monotonic() - started:5.1f}s]"

    out("sgguard demo: the functions of template.yaml, deployed into localcloud and driven by its triggers")
    out("")
    progress.step("starting localcloud")
    env = LocalEnv.start(build_delay_ms=300, echo=(lambda line: out("    " + line)) if args.verbose else None)
    try:
        code = _run(env, args, checks, out, stamp, started, progress)
        progress.finish("DEMO OK" if code == 0 else "DEMO FAILED")
        return code
    finally:
        if args.keep_running:
            out(f"localcloud keeps running at {env.cloud.url} (Ctrl-C to stop)")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        env.stop()


def _run(env: LocalEnv, args, checks: Checks, out, stamp, started: float, progress) -> int:
    from huaweicloudsdkecs.v2 import EcsClient

    from shared.signing import sign_request

    from ..localenv import read_results
    from .demo_drift import drift_detected_and_repaired
    from .demo_member import second_account
    from .demo_replay import replay_across_instances, start_store

    cloud = env.cloud
    out(
        f"{stamp()} localcloud at {cloud.url} (region {cloud.region}, project {cloud.project_id}), "
        f"servers take {300} ms to build"
    )

    # ---- package and deploy ---------------------------------------------------------------------------
    progress.step("packaging")
    out(f"{stamp()} package: sgguard package --local-dependencies")
    env.package(lambda line: out("    " + line.split("  /")[0]))
    progress.step("deploying")
    out(f"{stamp()} deploy: sgguard deploy --endpoint {cloud.url}  (template.yaml, through the FunctionGraph SDK)")
    store = start_store(out)
    if store is not None:
        env.cleanups.append(store.close)  # stopped with localcloud
        out(f"    shared idempotency store: redis-server at {store.url} (IDEMPOTENCY_STORE, encrypted user data)")
    deploy_overrides = {"PROTECTED_GROUPS": "baseline", **({"IDEMPOTENCY_STORE_URL": store.url} if store else {})}
    env.deploy(out=lambda line: out("    " + line), **deploy_overrides)
    state = cloud.state()["projects"][cloud.project_id]
    functions = state["functiongraph"]["functions"]
    checks.check(
        set(functions) == {"ecs_created", "change_request", "sg_drift"},
        "deploy created ecs_created, change_request and sg_drift",
    )
    triggers = {name: sorted(t["trigger_type_code"] for t in f["triggers"]) for name, f in functions.items()}
    checks.check(
        triggers.get("ecs_created") == ["CTS"] and triggers.get("change_request") == ["KAFKA"],
        f"triggers deployed: ecs_created on CTS, change_request on Kafka ({triggers})",
    )
    catalog = {sg["id"]: sg["name"] for sg in state["vpc"]["security_groups"]}

    # ---- servers ---------------------------------------------------------------------------------------------
    ecs = env.client(EcsClient)
    ids: dict[str, str] = {}
    progress.step("creating servers")
    out(f"{stamp()} create servers through the ECS SDK (CreatePostPaidServers):")
    for name, tags, subnets, why in SERVERS:
        job_id, server_id = create_server(ecs, name, tags, subnets)
        ids[name] = server_id
        out(
            f"    {name:<10} {server_id}  tags {', '.join(f'{k}={v}' for k, v in tags.items())}  "
            f"subnets {'+'.join(subnets)}  -- {why}"
        )
    by_id = {v: k for k, v in ids.items()}
    before = {name: read_server_when_built(env, server_id) for name, server_id in ids.items()}

    def created_results():
        found = {r["data"].get("server_id"): r for r in env.results("ecs_created")}
        return found if all(sid in found for sid in ids.values()) else None

    progress.step("waiting for ecs_created")
    created = env.wait_for(created_results, args.timeout) or {
        r["data"].get("server_id"): r for r in env.results("ecs_created")
    }
    out(f"{stamp()} the CTS trigger ran ecs_created for {len(created)} of {len(ids)} servers")
    after_created = {name: read_server(env, server_id) for name, server_id in ids.items()}
    for name, (outcome, expected_groups) in EXPECTED_CREATED.items():
        result = created.get(ids[name])
        got = result["data"]["outcome"] if result else "no result"
        checks.check(got == outcome, f"ecs_created {name}: {outcome} (got {got})")
        groups = [names(nic["security_groups_ids"], catalog) for nic in _nics(after_created[name])]
        checks.check(groups == expected_groups, f"{name} after creation: {expected_groups} (got {groups})")
    cts_sources = {e["source"].split(":")[1] for e in env.executions(function="ecs_created")}
    checks.check(cts_sources == {"CTS"}, f"ecs_created was invoked by the CTS trigger (sources {sorted(cts_sources)})")

    # ---- change requests ------------------------------------------------------------------------------------
    key_id, secret = next(iter(env.signing_keys.items()))
    plan = change_requests(ids)
    timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    messages = []
    for request, expectation in plan:
        signed = sign_request(request, key_id=key_id, secret=secret, timestamp=timestamp)
        if expectation.get("tamper"):
            signed = copy.deepcopy(signed)
            signed["change"]["security_groups"] = [{"name": "ssh-open"}]
        messages.append(json.dumps(signed, separators=(",", ":")))
    progress.step("publishing change requests")
    answer = env.publish(messages)
    out(
        f"{stamp()} published {len(messages)} signed change requests (key {key_id}) to Kafka topic {KAFKA_TOPIC}: "
        f"offsets {answer['first_offset']}..{answer['first_offset'] + len(messages) - 1}, "
        f"trigger batch size {answer['triggers'][0]['batch_size'] if answer['triggers'] else '-'}"
    )
    for request, expectation in plan:
        server = by_id.get(request.get("target", {}).get("server_id"), "?")
        change = request.get("change") or {}
        group_names = ", ".join(g.get("name") or g.get("id") for g in change.get("security_groups") or [])
        what = f"{change.get('action', '(no change)')} {group_names}".strip()
        out(f"    {request['request_id']}  {server:<10} {what:<34} -- {expectation['note']}")
    wanted = {request["request_id"] for request, _ in plan}

    def change_results():
        found = {r["data"].get("request_id"): r for r in env.results("change_request")}
        return found if wanted <= set(found) else None

    progress.step("waiting for change_request")
    changed = env.wait_for(change_results, args.timeout) or {
        r["data"].get("request_id"): r for r in env.results("change_request")
    }
    env.runtime.wait_idle(10)
    out(f"{stamp()} change_request answered {len(set(changed) & wanted)} of {len(wanted)} requests")
    for request, expectation in plan:
        result = changed.get(request["request_id"])
        data = result["data"] if result else {}
        error_codes = list(dict.fromkeys(e["code"] for e in data.get("errors") or []))
        ok = data.get("outcome") == expectation["outcome"] and (
            not expectation.get("code") or expectation["code"] in error_codes
        )
        checks.check(
            ok,
            f"{request['request_id']} {expectation['note']}: {expectation['outcome']}"
            f"{' ' + expectation['code'] if expectation.get('code') else ''} "
            f"(got {' '.join([data.get('outcome', 'no result'), *error_codes])})",
        )

    progress.step("reading back and reporting")
    final = {name: read_server(env, server_id) for name, server_id in ids.items()}
    for name, expected_groups in EXPECTED_FINAL.items():
        groups = [names(nic["security_groups_ids"], catalog) for nic in _nics(final[name])]
        checks.check(groups == expected_groups, f"{name} now: {expected_groups} (got {groups})")

    if store is not None:
        progress.step("replaying a request on another instance")
        stamp_now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        replay_across_instances(
            env,
            ids["web-01"],
            lambda request: sign_request(request, key_id=key_id, secret=secret, timestamp=stamp_now),
            checks,
            out,
            stamp,
            args.timeout,
        )

    progress.step("second account: a member's server, through EventGrid forwarding")
    # demo_member.py: the member account; its creation forwarded to the central deployment's ecs_created
    targets, member_server = second_account(env, checks, out, stamp, deploy_overrides, args.timeout)
    by_id[member_server] = "shop-web-01"
    progress.step("drift: detected, repaired, reported")
    drift_detected_and_repaired(env, ids["web-01"], checks, out, stamp, args.timeout, deploy_overrides, targets)

    # ---- where the results went -----------------------------------------------------------------------------
    smn = {
        json.loads(m["message"]).get("id"): m
        for m in env.smn_messages(env.result_topic_urn)
        if (m.get("message") or "").startswith("{")
    }
    order = {server_id: index for index, server_id in enumerate(ids.values())}
    results = sorted(
        read_results(env.executions()),
        key=lambda r: (
            r["_execution"]["function"] != "ecs_created",
            order.get(r["data"].get("server_id"), 99) if r["_execution"]["function"] == "ecs_created" else 0,
            r["data"].get("request_id") or "",
        ),
    )
    topic = env.result_topic_urn.rsplit(":", 1)[-1]
    own_changes = [r for r in results if any(w.get("code") == "OWN_CHANGE" for w in r["data"].get("warnings") or [])]
    skips = [r for r in results if r["data"]["outcome"] == "skipped" and r not in own_changes]
    for result in results:
        if result in own_changes or result in skips:
            continue
        label = result["data"].get("request_id")
        if result["_execution"]["function"] in ("ecs_created", "sg_drift"):
            function = result["_execution"]["function"]
            label = f"{function} {by_id.get(result['data'].get('server_id'), '?')} {result['data']['outcome']}"
        checks.check(result["id"] in smn, f"result of {label} reached SMN topic {topic} (as well as the log)")
    if skips:  # nothing to do (excluded by tag, not new): the topic's outcome filter leaves them to the log
        checks.check(
            not any(r["id"] in smn for r in skips),
            f"{len(skips)} skipped result(s) stayed in the log, off SMN topic {topic} (its outcomes filter)",
        )
    if own_changes:  # sg_drift's skips of sgguard's own changes: in the log, not on the topic (quiet by default)
        checks.check(
            not any(r["id"] in smn for r in own_changes),
            f"{len(own_changes)} sg_drift skip(s) of sgguard's own changes stayed in the log, off SMN topic {topic}",
        )

    # ---- report -------------------------------------------------------------------------------------------------
    out("")
    out("=" * 100)
    out("Servers: security groups per interface, in priority order (first = highest)")
    out("=" * 100)
    by_request = {r["data"].get("request_id"): r for r in results}
    for name, server_id in ids.items():
        view = final[name]
        tag_text = ", ".join(f"{k}={v}" for k, v in view["server"]["tags"].items())
        out(f"{name}  {server_id}  {view['server']['status']}  tags: {tag_text}")
        created_result = created.get(server_id)
        for index, nic in enumerate(_nics(view)):
            port_id = nic["port_id"]
            out(f"  interface {nic['ip']:<10} port {port_id}{'  (primary)' if nic['primary'] else ''}")
            first = _nics(before[name])[index] if index < len(_nics(before[name])) else None
            out(f"    {'at creation':<28} {arrow(names(first['security_groups_ids'], catalog)) if first else '?'}")
            steps = []
            if created_result:
                steps.append(("ecs_created (CTS)", created_result))
            steps += [
                (rid, by_request[rid])
                for rid in sorted(rid for rid in by_request if rid)
                if rid and rid.startswith("CHG-DEMO") and by_request[rid]["data"].get("server_id") == server_id
            ]
            for label, result in steps:
                data = result["data"]
                nic_result = next((n for n in data.get("nics") or [] if n.get("port_id") == port_id), None)
                codes = ",".join(dict.fromkeys(e["code"] for e in data.get("errors") or []))
                outcome = data["outcome"] + (f" {codes}" if codes else "")
                if data["outcome"] == "skipped":
                    outcome += f" ({data.get('reason')})"
                if nic_result is None:
                    if data["outcome"] in ("succeeded", "planned", "no_change") and not data.get("nics"):
                        text = "(unchanged)"
                    elif data["outcome"] in ("succeeded", "planned", "no_change"):
                        text = "(not this interface)"
                    else:
                        text = "(unchanged)"
                else:
                    after = names(nic_result.get("after") or [], catalog)
                    text = ("would be: " if data.get("dry_run") else "") + arrow(after)
                rules = f"  rules {', '.join(data['rules_matched'])}" if data.get("rules_matched") else ""
                out(f"    {label:<28} {text:<44} {outcome}{rules if label.startswith('ecs') else ''}")
            now = names(nic["security_groups_ids"], catalog)
            expected = EXPECTED_FINAL[name][index] if index < len(EXPECTED_FINAL[name]) else None
            out(
                f"    {'now':<28} {arrow(now):<44} "
                f"{'as expected' if now == expected else f'EXPECTED {arrow(expected)}'}"
            )
        out("")

    out("=" * 100)
    out("Result events (one per input) and where each went")
    out("=" * 100)
    out(f"{'function':<15} {'request id':<38} {'outcome':<10} {'errors/warnings':<26} delivered to")
    for result in results:
        data = result["data"]
        execution = result["_execution"]
        codes = ",".join(
            dict.fromkeys(
                [e["code"] for e in data.get("errors") or []] + [w["code"] for w in data.get("warnings") or []]
            )
        )
        source = execution["source"].split(":")[1] if ":" in execution["source"] else execution["source"]
        where = [f"log (execution {execution['request_id'][:8]}, {source} trigger)"]
        message = smn.get(result["id"])
        if message:
            where.append(f"SMN {message['topic_urn'].rsplit(':', 1)[-1]} (message {message['message_id'][:8]})")
        request_id = data.get("request_id") or "-"
        if execution["function"] == "ecs_created":
            request_id = f"{by_id.get(data.get('server_id'), '?')} (trace {request_id[:8]})"
        elif execution["function"] == "sg_drift":
            request_id = by_id.get(data.get("server_id"), data.get("server_id") or "-")
        out(
            f"{execution['function']:<15} {request_id:<38} {data['outcome']:<10} {codes or '-':<26} {' + '.join(where)}"
        )
    executions = env.executions()
    cold = sum(1 for e in executions if e["cold_start"])
    out("")
    out(
        f"{len(executions)} executions ({cold} cold starts), {len(results)} result events, "
        f"{len(smn)} SMN messages on {env.result_topic_urn}"
    )

    out("")
    out("=" * 100)
    out("Checks")
    out("=" * 100)
    for ok, what in checks.items:
        out(f"  {'ok  ' if ok else 'FAIL'} {what}")
    elapsed = time.monotonic() - started
    if checks.failed:
        out(f"\nDEMO FAILED: {len(checks.failed)} of {len(checks.items)} checks failed ({elapsed:.1f} s)")
        return 1
    out(f"\nDEMO OK: {len(checks.items)} checks passed in {elapsed:.1f} s")
    return 0


def _nics(view: dict) -> list[dict]:
    for nic in view["interfaces"]:
        nic.setdefault("security_groups_ids", [g["id"] for g in nic["security_groups"]])
    return view["interfaces"]


def read_server_when_built(env: LocalEnv, server_id: str, timeout_s: float = 10.0) -> dict:
    """The server as soon as its interfaces exist (its groups at creation)."""
    deadline = time.monotonic() + timeout_s
    while True:
        view = read_server(env, server_id)
        if view["interfaces"] or time.monotonic() > deadline:
            return view
        time.sleep(0.05)
