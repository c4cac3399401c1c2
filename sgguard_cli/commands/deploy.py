"""``sgguard deploy``: deploy template.yaml to FunctionGraph, creating or updating each function
idempotently — after showing the plan (values, secrets masked, totals) and a confirmation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..cloudargs import CREDENTIALS_HELP, add_cloud_arguments, cloud_target
from ..errors import ConfigError, UsageError

if TYPE_CHECKING:
    from ..deployer.plan_view import Plan

__all__ = ["SUMMARY", "EPILOG", "add_arguments", "run", "deploy"]

SUMMARY = "deploy template.yaml to FunctionGraph (create or update, idempotently)"
DETAILS = f"""
Template parameters (${{NAME}}) come from the environment; {CREDENTIALS_HELP}. The FunctionGraph
endpoint is --endpoint, else $FUNCTIONGRAPH_ENDPOINT, else https://functiongraph.<region>.myhuaweicloud.com.
Function zips are rebuilt (reproducibly) into --build-dir; the dependency package must exist to
apply (sgguard package --dependencies; --plan works without it), and the localcloud stand-in is
refused for a public endpoint. The plan lists every change as add (+), change (~), replace (-/+)
or destroy (-) with the values it sets (encrypted user data and passwords masked) and totals;
applying asks for "yes" unless --yes (without a terminal, --yes is required).
Exit status: 0 done (or planned, or declined), 2 usage, 3 template, credentials or a failed API call.
"""
EPILOG = """
examples:
  sgguard deploy --plan                            # print the changes, make none
  sgguard deploy --plan --json                     # the same as JSON
  sgguard deploy                                   # show them, ask, apply
  sgguard deploy --yes                             # apply without asking (CI)
  sgguard deploy --endpoint http://127.0.0.1:PORT  # into localcloud
  sgguard deploy --print-agency-policy             # the agency's IAM policy (JSON), for the administrator
"""


def add_arguments(parser) -> None:
    parser.add_argument("--plan", action="store_true", help="print what would change; change nothing")
    parser.add_argument("--yes", action="store_true", help="apply without asking for confirmation")
    parser.add_argument("--json", action="store_true", help="print the plan or the result as JSON")
    parser.add_argument("--template", help="the deployment descriptor (default: template.yaml of the project)")
    parser.add_argument("--build-dir", help="where the zips are built (default: build/ of the project)")
    parser.add_argument(
        "--print-agency-policy",
        action="store_true",
        help="print the agency's custom IAM policy (for the administrator) and exit",
    )
    add_cloud_arguments(parser, endpoint_help="FunctionGraph endpoint URL (e.g. localcloud's)")


def deploy(
    template,
    *,
    client,
    region: str,
    project_id: str,
    build_dir: Path,
    plan_only: bool = False,
    out=print,
    progress=None,
    approve: Callable[[Plan], bool] = lambda plan: True,
):
    """Plan ``template``, print the plan and its totals, and unless ``plan_only`` (or ``approve``
    declines) apply it; returns ``(plan, api, applied)``."""
    from ..deployer.api import FunctionGraphApi
    from ..deployer.packaging import artifact_of, build_function_zip
    from ..deployer.plan import apply_plan, make_plan

    step = progress.step if progress else (lambda text: None)
    step(f"building {len(template.functions)} function zip(s)")
    artifacts = {f.func_name: build_function_zip(template.root, f, build_dir) for f in template.functions}
    for dependency in template.dependencies:
        path = template.root / dependency.file
        if plan_only and not path.exists():
            continue  # planned as a new version "not built yet"
        artifacts[dependency.name] = artifact_of(path, dependency.name)
    api = FunctionGraphApi(client, region, project_id)
    step("reading what is deployed and planning")
    plan, dependency_ids = make_plan(api, template, artifacts)
    for line in plan.lines():
        out(line)
    if plan.changes:
        out(plan.totals())
    if plan_only or not plan.changes or not approve(plan):
        return plan, api, False
    step(f"applying {len(plan.changes)} change(s)")
    apply_plan(api, plan, dependency_ids, report=out)
    return plan, api, True


def refuse_stubs(template) -> None:
    """The localcloud stand-in dependency package must never reach a real region."""
    import zipfile

    for dependency in template.dependencies:
        path = template.root / dependency.file
        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if archive.namelist() == ["sgguard_deps_pins.txt"]:
                    raise ConfigError(
                        f"{dependency.file} is the localcloud stub (sgguard package --local-dependencies);"
                        " build the real one with sgguard package --dependencies"
                    )


def run(args, ctx) -> int:
    from ..deployer.api import DeployError
    from ..deployer.packaging import PackagingError
    from ..deployer.review import confirm, missing_parameters_message
    from ..project import project_root
    from ..template import TemplateError, load_template

    environ = dict(ctx.environ)
    if getattr(args, "region", None):  # --region is also the template's REGION parameter
        environ["REGION"] = args.region
    template_path = Path(args.template) if args.template else project_root(environ=environ) / "template.yaml"
    try:
        try:
            template = load_template(template_path, environ)
        except TemplateError as error:
            if not error.missing:
                raise
            others = [e for e in error.errors if not e.startswith("missing parameters")]
            raise ConfigError(
                missing_parameters_message(template_path, error.missing, error.parameters, others)
            ) from None
        if args.print_agency_policy:
            agency = template.agency
            if agency is None:
                raise ConfigError(f"{template_path}: the template declares no agency")
            ctx.out(
                json.dumps(
                    {
                        "agency": agency.name,
                        "delegated_service": agency.delegated_service,
                        "policy": agency.policy,
                    },
                    indent=2,
                )
            )
            return 0
        target = cloud_target(args, environ, region_fallback=template.values.get("REGION"))
        credentials = target.required_credentials()
        if target.is_public("functiongraph"):
            refuse_stubs(template)
        client = target.functiongraph_client()
        lines: list[str] = []
        out = lines.append if args.json else ctx.out
        progress = ctx.progress(3 if not args.plan else 2, "deploy")
        build_dir = Path(args.build_dir) if args.build_dir else template.root / "build"

        def approve(plan) -> bool:
            if args.json and not args.yes:
                raise UsageError("deploy --json applies only with --yes (or use --plan --json)")
            return confirm(f"Apply {len(plan.changes)} change(s)?", yes=args.yes, stdin=getattr(ctx, "stdin", None))

        plan, api, applied = deploy(
            template,
            client=client,
            region=target.region,
            project_id=credentials.project_id,
            build_dir=build_dir,
            plan_only=args.plan,
            out=out,
            progress=progress,
            approve=approve,
        )
        progress.finish("deployed" if applied else "planned")
    except (TemplateError, PackagingError, DeployError) as error:
        raise ConfigError(str(error)) from None
    verb = "applied" if applied else "planned"
    if plan.changes and not applied and not args.plan:
        verb = "planned, not applied (declined)"
    summary = f"{len(plan.changes)} change(s) {verb}; {len(api.writes)} write call(s), {api.reads} read call(s)"
    if args.json:
        ctx.out(
            json.dumps(
                {
                    "plan_only": bool(args.plan),
                    "applied": applied,
                    "totals": plan.counts(),
                    "changes": [c.to_json() for c in plan.changes],
                    "lines": lines,
                    "writes": len(api.writes),
                    "reads": api.reads,
                    "summary": summary,
                },
                indent=2,
            )
        )
    else:
        ctx.out(summary)
    return 0
