"""``sgguard bootstrap``: from a short parameters file (or flags), plan and then create or check every
prerequisite of a deployment, deploy, and run preflight — idempotently: a second run plans 0 changes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..cloudargs import CREDENTIALS_HELP, add_cloud_arguments, cloud_target
from ..errors import ConfigError, Problems

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run"]

SUMMARY = "create or check every prerequisite (agency, topics, tracker, package), deploy, run preflight"
DETAILS = f"""
{CREDENTIALS_HELP} (an IAM administrator's, for the agency: docs/deploy.md). Plans first (reads
only): the agency delegated to FunctionGraph with the least-privilege custom policy of
template.yaml granted on this project, the SMN result and alert topics, the CTS system tracker, the
Kafka topic on an EXISTING DMS instance (never bought for you), the dependency package; then the
deploy plan. After "yes" (or --yes) it creates what is missing, deploys, and runs preflight.
What it cannot create is checked and explained, and nothing is written then. Secrets
(SIGNING_KEYS_JSON, KAFKA_PASSWORD) come from the environment, never from the parameters file.
Exit status: 0 done (or planned), 1 a prerequisite is missing or a preflight check failed, 2 usage
or bad parameters, 3 credentials, template or a failed API call.
"""
EPILOG = """
parameters file (YAML; every key optional, flags override):
  region: cn-north-4
  kafka_instance_id: 9f0a1b2c-3d4e-5f60-7182-93a4b5c6d7e8
  kafka_topic: sg-change-requests
  result_topic: sgguard-results
  alert_topic: sgguard-alerts
examples:
  sgguard bootstrap --params bootstrap.yaml --plan     # what would be created; changes nothing
  sgguard bootstrap --params bootstrap.yaml            # show it, ask, create, deploy, preflight
  sgguard bootstrap --kafka-instance-id ID --yes --server SERVER_ID
  sgguard bootstrap --member --central-project-id PID --central-channel-id CID --central-region cn-north-4
      # with a MEMBER account's credentials, per region: its ECS / VPC events to the central channel
"""

_FLAGS = ("region", "agency_name", "kafka_instance_id", "kafka_topic", "result_topic", "alert_topic")


def add_arguments(parser) -> None:
    parser.add_argument("--params", metavar="FILE", help="the parameters file (YAML)")
    for name in _FLAGS[1:]:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, help=f"overrides {name} of the file")
    parser.add_argument("--dependency-zip", dest="dependency_zip", help="the dependency package (built if absent)")
    parser.add_argument("--no-tracker", dest="tracker", action="store_false", default=None, help="skip the CTS tracker")
    parser.add_argument("--plan", action="store_true", help="print what would change; change nothing")
    parser.add_argument("--yes", action="store_true", help="apply without asking for confirmation")
    parser.add_argument("--server", help="a server id for preflight's server and dry-run checks")
    parser.add_argument("--template", help="the deployment descriptor (default: template.yaml of the project)")
    parser.add_argument("--build-dir", help="where the zips are built (default: build/ of the project)")
    add_cloud_arguments(parser, endpoint_help="one URL for every service (e.g. localcloud's)")
    from .bootstrap_member import add_member_arguments

    add_member_arguments(parser)


def _environment(params, environ: dict, region: str, project_id: str, agency: str) -> dict:
    """The deploy environment: the caller's, plus what bootstrap creates (a value the caller set wins,
    except what the parameters name explicitly)."""
    env = dict(environ, REGION=region, AGENCY_NAME=agency, KAFKA_TOPIC=params.kafka_topic)
    if params.kafka_instance_id:
        env["KAFKA_INSTANCE_ID"] = params.kafka_instance_id
    if params.dependency_zip:
        env["DEPENDENCY_ZIP"] = params.dependency_zip
    urn = f"urn:smn:{region}:{project_id}:"
    if params.alert_topic:
        env.setdefault("ALERT_TOPIC_URN", urn + params.alert_topic)
    if params.result_topic:
        env.setdefault("RESULT_SINKS", json.dumps(["log", {"type": "smn", "topic_urn": urn + params.result_topic}]))
    return env


def _load(template_path: Path, env: dict):
    from ..deployer.review import missing_parameters_message
    from ..template import TemplateError, load_template

    try:
        return load_template(template_path, env)
    except TemplateError as error:
        if not error.missing:
            raise ConfigError(str(error)) from None
        others = [e for e in error.errors if not e.startswith("missing parameters")]
        raise ConfigError(missing_parameters_message(template_path, error.missing, error.parameters, others)) from None


def _dependency_step(template, target, env: dict, build_dir: Path):
    """The package as a step: in place, or built (the real one for a public endpoint; localcloud's
    stub beside it otherwise, never at the real package's path)."""
    from ..deployer.packaging import build_dependency_zip, stub_dependency_zip
    from ..deployer.prerequisites import Step

    dependency = template.dependencies[0]
    path = template.root / dependency.file
    local = not target.is_public("functiongraph")
    if local and not path.exists():
        path = path.with_name(path.stem + "-local.zip")
        env["DEPENDENCY_ZIP"] = str(path)
    if path.exists():
        return Step("dependency package", str(path), "ok", f"{path.stat().st_size} bytes")

    def build(state: dict) -> None:
        if local:
            stub_dependency_zip(template.root, path, dependency.name)
        else:
            build_dependency_zip(template.root, dependency, path, build_dir / "wheels")

    what = "localcloud stub" if local else "downloads the wheels (sgguard package --dependencies)"
    return Step("dependency package", str(path), "create", what, run=build)


def _use_created_urns(params, environ: dict, env: dict, topics: dict) -> None:
    """The URNs SMN answered (the same as the ones planned, unless SMN spells them otherwise)."""
    alert, result = topics.get(params.alert_topic), topics.get(params.result_topic)
    if alert and "ALERT_TOPIC_URN" not in environ:
        env["ALERT_TOPIC_URN"] = alert
    if result and "RESULT_SINKS" not in environ:
        env["RESULT_SINKS"] = json.dumps(["log", {"type": "smn", "topic_urn": result}])


def _use_channel(environ: dict, env: dict, facts: dict) -> None:
    """The central channel's id (found or created) for the triggers on it, unless the caller set one."""
    found = [channel_id for channel_id in (facts.get("channels") or {}).values() if channel_id]
    if found and not environ.get("ORG_EG_CHANNEL_ID"):
        env["ORG_EG_CHANNEL_ID"] = found[0]


def run(args, ctx) -> int:
    if getattr(args, "member", False):  # a member account's side: its EventGrid subscription only
        from .bootstrap_member import run_member

        return run_member(args, ctx)
    from ..deployer.api import DeployError, build_client
    from ..deployer.bootstrap_params import ParamsError, load_params
    from ..deployer.packaging import PackagingError
    from ..deployer.prereq_api import PrerequisiteApi, PrerequisiteError
    from ..deployer.prerequisites import Wanted, apply_steps, plan_prerequisites, totals
    from ..deployer.review import confirm
    from ..errors import UsageError
    from ..project import project_root
    from .deploy import deploy

    try:
        flags = {name: getattr(args, name, None) for name in (*_FLAGS, "dependency_zip", "tracker")}
        params = load_params(args.params, flags)
    except ParamsError as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"{args.params}: {error.strerror}") from None
    environ = dict(ctx.environ)
    template_path = Path(args.template) if args.template else project_root(environ=environ) / "template.yaml"
    target = cloud_target(args, environ, region_fallback=params.region or None)
    credentials = target.required_credentials()
    agency = params.agency_name or environ.get("AGENCY_NAME") or "sgguard-functions"
    env = _environment(params, environ, params.region or target.region, credentials.project_id, agency)
    template = _load(template_path, env)
    build_dir = Path(args.build_dir) if args.build_dir else template.root / "build"
    try:
        api = PrerequisiteApi(target)
        wanted = Wanted(
            template.agency,
            params.result_topic,
            params.alert_topic,
            params.kafka_instance_id or env.get("KAFKA_INSTANCE_ID", ""),
            params.kafka_topic,
            params.kafka_partitions,
            params.tracker,
            template.event_channels,
        )
        steps, facts = plan_prerequisites(api, wanted)
        _use_channel(environ, env, facts)
        steps.append(_dependency_step(template, target, env, build_dir))
        template = _load(template_path, env)  # DEPENDENCY_ZIP may have moved to localcloud's stub
        for step in steps:
            ctx.out(step.line())
        ctx.out(totals(steps))
        missing = [s for s in steps if s.action == "missing"]
        if missing:
            raise Problems(
                f"{len(missing)} prerequisite(s) cannot be created here (see the lines marked !): nothing was changed"
            )
        endpoint = target.endpoint("functiongraph")
        client = build_client(
            credentials.ak, credentials.sk, credentials.project_id, endpoint, credentials.security_token
        )
        common = dict(client=client, region=target.region, project_id=credentials.project_id, build_dir=build_dir)
        plan, _, _ = deploy(template, plan_only=True, out=ctx.out, **common)
        count = sum(1 for s in steps if s.run is not None) + len(plan.changes)
        ctx.out(f"bootstrap: {count} change(s) planned")
        if args.plan:
            return 0
        if count:
            if not confirm(f"Apply {count} change(s)?", yes=args.yes, stdin=getattr(ctx, "stdin", None)):
                ctx.out("declined: nothing was changed")
                return 0
            state = apply_steps(steps, facts, ctx.out)
            _use_created_urns(params, environ, env, state.get("topics", {}))
            _use_channel(environ, env, state)
            deploy(_load(template_path, env), out=ctx.out, **common)
    except (PrerequisiteError, DeployError, PackagingError) as error:
        raise ConfigError(str(error)) from None
    return _preflight(args, env, template_path, ctx)


def _preflight(args, env: dict, template_path: Path, ctx) -> int:
    from ..deployer.preflight import CREDENTIALS_CHECK, render, run_preflight
    from .preflight import preflight_input, resource_checks

    pre = argparse.Namespace(
        server=args.server,
        policy=None,
        template=str(template_path),
        json=False,
        endpoint=getattr(args, "endpoint", None),
        region=env["REGION"],
    )
    checks = run_preflight(preflight_input(pre, env))
    if not any(check.name == CREDENTIALS_CHECK for check in checks):
        checks += resource_checks(pre, env)
    if not args.server:  # without a server, its two checks say only that none was named
        checks = [c for c in checks if c.name not in ("server", "dry-run write")]
    ctx.out("preflight:" + ("" if args.server else " (no --server: the server and dry-run checks are skipped)"))
    ctx.out(render(checks))
    return 0 if all(check.ok for check in checks) else 1
