"""``sgguard invoke``: run one function of template.yaml with an event file, locally (like
``sam local invoke``)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from ..cloudargs import AK, PROJECT_ID, SECURITY_TOKEN, SK
from ..errors import ConfigError, Problems, UsageError

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "local_parameters", "ENDPOINT_SETTINGS"]

SUMMARY = "run one function with an event file in the local runtime, like `sam local invoke`"
DETAILS = """
The function's zip is built as sgguard package builds it and run by localcloud's local runtime: a
fresh python process with the code directory first on the path, and a FunctionGraph context
(request id, remaining time from the function's timeout, user data, agency credentials).

User data: the function's user_data and encrypted_user_data from template.yaml, with the template's
parameters taken from the environment, else their defaults, else local stand-ins (REGION =
localcloud's, SIGNING_KEYS_JSON = the local key...); the endpoints (ECS, VPC, SMN, EG,
FunctionGraph) point at localcloud; --env K=V sets any key last. localcloud: --endpoint URL, else
$LOCALCLOUD_URL (a running one, e.g. sgguard serve's), else one started for the invocation.
Credentials: HUAWEICLOUD_SDK_AK / _SK / _PROJECT_ID (+ _SECURITY_TOKEN) when set, else temporary
ones localcloud issues (as an agency would).

Samples: the localcloud started for the invocation holds the default seed plus what the samples
under events/ name (localcloud/seeds/samples.json), so every sample finds its server. Unsigned
change requests in the event (the samples are unsigned) are signed with the local key, as stderr
says, when the function's REQUEST_SIGNING_KEYS hold it; --no-sign sends the event as it is.

The handler's log lines go to stderr, then one summary line of the outcomes; stdout gets a table of
the results (a dry run: the plan, interface by interface, groups by name) or, with --json, the
handler's whole response. Exit status: 0 every result is fine (succeeded, planned, no_change,
skipped, compliant, drift_detected...), 1 a result is rejected, failed or rolled_back, or the
handler raised or timed out (the error object is printed), 2 usage, 3 template or packaging.
"""
EPILOG = """
examples:
  sgguard invoke change_request events/change_request/kafka.json
  sgguard invoke ecs_created events/ecs_created/direct.json --env READINESS_MAX_WAIT_S=5
  sgguard invoke sg_drift events/sg_drift/sweep.json --env DRIFT_MODE=enforce
  sgguard invoke change_request events/change_request/apig.json --json     # the whole response
  sgguard invoke change_request signed.json --endpoint $LOCALCLOUD_URL --env RESULT_SINKS='["log"]'
"""

ENDPOINT_SETTINGS = ("ECS_ENDPOINT", "VPC_ENDPOINT", "SMN_ENDPOINT", "EG_ENDPOINT", "FUNCTIONGRAPH_ENDPOINT")


def local_parameters(region: str, project_id: str) -> dict:
    """Stand-ins for the template's required parameters (the environment overrides them)."""
    from ..localenv import KAFKA_INSTANCE_ID, LOCAL_SIGNING_KEYS

    return {
        "REGION": region,
        "ALERT_TOPIC_URN": f"urn:smn:{region}:{project_id}:sgguard-alerts",
        "SIGNING_KEYS_JSON": json.dumps(LOCAL_SIGNING_KEYS),
        "KAFKA_INSTANCE_ID": KAFKA_INSTANCE_ID,
        "DEPENDENCY_ZIP": "build/sgguard-deps-local.zip",
    }


def _credentials(endpoint: str, project_id: str, environ) -> tuple[str, str, str, str]:
    if environ.get(AK) and environ.get(SK):
        return (environ[AK], environ[SK], environ.get(SECURITY_TOKEN, ""), environ.get(PROJECT_ID) or project_id)
    from localcloud.client import ControlClient

    issued = ControlClient(endpoint).temporary_credentials(project_id)
    return issued["ak"], issued["sk"], issued["security_token"], project_id


def add_arguments(parser) -> None:
    parser.add_argument(
        "function", metavar="FUNCTION", help="func_name in template.yaml: ecs_created, change_request or sg_drift"
    )
    parser.add_argument("event", metavar="EVENT_FILE", help="event file (JSON), '-' for stdin; samples under events/")
    parser.add_argument(
        "--endpoint",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="a running localcloud (default: $LOCALCLOUD_URL, else start one for the invocation)",
    )
    parser.add_argument("--env", action="append", default=[], metavar="K=V", help="set a user data key (repeatable)")
    parser.add_argument("--template", help="the deployment descriptor (default: template.yaml of the project)")
    parser.add_argument("--timeout", type=int, help="override the function's timeout (seconds)")
    parser.add_argument("--quiet", action="store_true", help="do not print the log lines")
    parser.add_argument("--json", action="store_true", help="print the handler's whole response (JSON), not the table")
    parser.add_argument(
        "--no-sign", action="store_true", help="send the event as it is (default: sign unsigned change requests)"
    )


def run(args, ctx) -> int:
    overrides = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--env {item!r}: write KEY=VALUE")
        overrides[key] = value
    try:
        text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text(encoding="utf-8")
        event = json.loads(text)
    except (OSError, ValueError) as error:
        raise UsageError(f"event {args.event}: {error}") from None

    from localcloud.core.state import DEFAULT_PROJECT_ID, DEFAULT_REGION
    from localcloud.runtime.instances import CodeCache, FunctionSnapshot, Instance, invocation_request

    from ..deployer.packaging import PackagingError, build_function_zip
    from ..project import project_root
    from ..template import TemplateError, load_template

    template_path = Path(args.template) if args.template else project_root(environ=ctx.environ) / "template.yaml"
    cloud = None
    work = Path(tempfile.mkdtemp(prefix="sgguard-invoke-"))
    try:
        running = getattr(args, "endpoint", None) or ctx.environ.get("LOCALCLOUD_URL")
        if running:
            endpoint, region, project_id = (
                running.rstrip("/"),
                getattr(args, "region", None) or ctx.environ.get("REGION", DEFAULT_REGION),
                DEFAULT_PROJECT_ID,
            )
        else:
            from localcloud import start
            from localcloud.seed import default_seed, with_samples

            cloud = start(seed=with_samples(default_seed(), _utc_now()))
            endpoint, region, project_id = cloud.url, cloud.region, cloud.project_id
        environ = {**local_parameters(region, project_id), **ctx.environ}
        try:
            template = load_template(template_path, environ)
            spec = template.function(args.function)
        except KeyError:
            raise UsageError(f"no function {args.function!r} in {template_path}") from None
        except TemplateError as error:
            raise ConfigError(str(error)) from None
        try:
            artifact = build_function_zip(template.root, spec, work / "build")
        except PackagingError as error:
            raise ConfigError(str(error)) from None
        user_data = dict(spec.user_data)
        for name in ENDPOINT_SETTINGS:
            if name in user_data:
                user_data[name] = endpoint
        encrypted = dict(spec.encrypted_user_data)
        for key, value in overrides.items():
            (encrypted if key in encrypted else user_data)[key] = value
        ak, sk, token, project_id = _credentials(endpoint, project_id, ctx.environ)
        timeout = args.timeout or spec.timeout
        code = artifact.path.read_bytes()
        snapshot = FunctionSnapshot(
            project_id=project_id,
            name=spec.func_name,
            package=spec.package,
            urn=f"urn:fss:{region}:{project_id}:function:{spec.package}:{spec.func_name}:latest",
            runtime=spec.runtime,
            handler=spec.handler,
            timeout=timeout,
            memory_size=spec.memory_size,
            code=code,
            sha256=artifact.sha256,
            user_data=user_data,
            encrypted_user_data=encrypted,
            xrole=spec.xrole,
            initializer_handler=spec.initializer_handler,
            initializer_timeout=spec.initializer_timeout,
        )
        if not args.no_sign:
            event = _sign_samples(event, encrypted.get("REQUEST_SIGNING_KEYS", ""), ctx)
        instance = Instance(snapshot, CodeCache(work / "cache"), work / "home")
        try:
            request = invocation_request(snapshot, str(uuid.uuid4()), event, float(timeout), (ak, sk, token))
            outcome = instance.invoke(request, timeout + 2.0)
        finally:
            instance.close()
        header = f"-- {spec.func_name} ({artifact.size} bytes, sha256 {artifact.sha256[:12]}) against {endpoint}"
        return _report(outcome, header, endpoint, args, ctx)
    finally:
        if cloud is not None:
            cloud.stop()
        shutil.rmtree(work, ignore_errors=True)


def _utc_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sign_samples(event, configured_keys: str, ctx):
    """``event`` with its unsigned change requests signed by the local key, when the function's
    REQUEST_SIGNING_KEYS hold it (a real key is never guessed at: then the event goes as it is)."""
    from shared.signing import sign_request

    from ..localenv import LOCAL_SIGNING_KEYS
    from ..sample_signing import sign_event_requests

    key_id, secret = next(iter(LOCAL_SIGNING_KEYS.items()))
    try:
        keys = json.loads(configured_keys) if configured_keys else {}
    except ValueError:
        keys = {}
    timestamp = _utc_now()
    signed, request_ids = sign_event_requests(
        event, lambda request: sign_request(request, key_id=key_id, secret=secret, timestamp=timestamp)
    )
    if not request_ids:
        return event
    if not isinstance(keys, dict) or keys.get(key_id) != secret:
        ctx.warn(
            f"-- {len(request_ids)} unsigned change request(s) sent as they are: REQUEST_SIGNING_KEYS does not "
            f"hold the local key {key_id} (sign them with `sgguard sign`)"
        )
        return event
    ctx.warn(
        f"-- signed {len(request_ids)} change request(s) ({', '.join(request_ids)}) with the local key {key_id} "
        f"at {timestamp} (--no-sign sends the event as it is)"
    )
    return signed


def _group_names(endpoint: str) -> dict:
    """Group id -> name from localcloud's state, for the table (empty when it cannot be read)."""
    from localcloud.client import ControlClient

    try:
        projects = ControlClient(endpoint).state().get("projects", {})
    except Exception:  # a table without names is still a table
        return {}
    return {
        group["id"]: group["name"]
        for project in projects.values()
        for group in ((project.get("vpc") or {}).get("security_groups") or [])
        if isinstance(group, dict) and group.get("id") and group.get("name")
    }


def _report(outcome, header: str, endpoint: str, args, ctx) -> int:
    """Log lines and the summary on stderr, the table (or --json the response) on stdout; the exit
    status from the same count as the summary."""
    from ..outcomes import PROBLEM_OUTCOMES, outcome_counts, result_data, result_table, summary_line

    data = result_data(outcome.result) if outcome.ok else []
    counts = outcome_counts(data)
    if outcome.ok:
        problems = sum(counts[name] for name in PROBLEM_OUTCOMES)
        verdict = f"returned in {outcome.duration_ms:.0f} ms, {summary_line(counts)}"
    else:
        verdict = f"failed in {outcome.duration_ms:.0f} ms: {(outcome.error or {}).get('errorType', 'no result')}"
    if not args.quiet:
        for note in outcome.notes:
            ctx.warn(f"-- {note}")
        for line in outcome.log.splitlines():
            ctx.warn(line)
    ctx.warn(f"{header}: {verdict}")
    if not outcome.ok:
        ctx.out(json.dumps(outcome.error, indent=2, ensure_ascii=False))
        raise Problems(f"{args.function} failed: {(outcome.error or {}).get('errorType', 'no result')}")
    if args.json:
        ctx.out(json.dumps(outcome.result, indent=2, ensure_ascii=False))
    else:
        for line in result_table(data, _group_names(endpoint)):
            ctx.out(line)
    if problems:
        raise Problems(
            f"{problems} of {sum(counts.values())} results {'/'.join(PROBLEM_OUTCOMES)}: {summary_line(counts)}"
        )
    return 0
