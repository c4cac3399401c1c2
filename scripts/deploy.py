"""Deploy template.yaml to FunctionGraph: create or update each function idempotently.

    .venv/bin/python scripts/deploy.py --plan                     # print the changes, make none
    .venv/bin/python scripts/deploy.py                            # apply them
    .venv/bin/python scripts/deploy.py --endpoint http://127.0.0.1:PORT   # e.g. into localcloud
    .venv/bin/python scripts/deploy.py --print-agency-policy      # the agency's IAM policy (JSON)

Credentials and project come from the SDK's usual variables: HUAWEICLOUD_SDK_AK,
HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID (and HUAWEICLOUD_SDK_SECURITY_TOKEN for temporary
credentials). Template parameters (${NAME}) come from the same environment. The endpoint defaults
to https://functiongraph.<REGION>.myhuaweicloud.com. Function zips are rebuilt (reproducibly) into
--build-dir; the dependency package must exist (scripts/package.py --dependencies).
Exit status: 0 done (or planned), 1 error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["main", "deploy"]


def deploy(template, *, client, region: str, project_id: str, build_dir: Path, plan_only: bool = False,
           out=print):
    """Plan (and unless ``plan_only`` apply) ``template``; returns ``(plan, api)``."""
    from scripts.deployer.api import FunctionGraphApi
    from scripts.deployer.packaging import artifact_of, build_function_zip
    from scripts.deployer.plan import apply_plan, make_plan

    artifacts = {f.func_name: build_function_zip(template.root, f, build_dir) for f in template.functions}
    for dependency in template.dependencies:
        artifacts[dependency.name] = artifact_of(template.root / dependency.file, dependency.name)
    api = FunctionGraphApi(client, region, project_id)
    plan, dependency_ids = make_plan(api, template, artifacts)
    if plan_only:
        for line in plan.lines():
            out(line)
        return plan, api
    if not plan.changes:
        out("no changes")
    apply_plan(api, plan, dependency_ids, report=out)
    return plan, api


def _refuse_stubs(template) -> None:
    """The localcloud stand-in dependency package must never reach a real region."""
    import zipfile

    from scripts.deployer.api import DeployError

    for dependency in template.dependencies:
        path = template.root / dependency.file
        if path.is_file() and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if archive.namelist() == ["sgguard_deps_pins.txt"]:
                    raise DeployError(f"{dependency.file} is the localcloud stub (package.py --local-dependencies); "
                                      "build the real one with scripts/package.py --dependencies")


def _require(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if not value:
        raise SystemExit(f"deploy: set {name} (credentials and project come from the environment)")
    return value


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None, out=print) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("--plan", action="store_true", help="print what would change; change nothing")
    parser.add_argument("--endpoint", help="FunctionGraph endpoint URL (default: the region's public one)")
    parser.add_argument("--build-dir", default=str(ROOT / "build"))
    parser.add_argument("--print-agency-policy", action="store_true",
                        help="print the agency's custom IAM policy (for the administrator) and exit")
    args = parser.parse_args(argv)
    environ = os.environ if environ is None else environ

    from scripts.deployer.api import DeployError, build_client
    from scripts.deployer.packaging import PackagingError
    from scripts.template import TemplateError, load_template

    try:
        template = load_template(args.template, environ)
        if args.print_agency_policy:
            out(json.dumps({"agency": template.agency.name, "delegated_service": template.agency.delegated_service,
                            "policy": template.agency.policy}, indent=2))
            return 0
        region = template.values.get("REGION") or _require(environ, "HUAWEICLOUD_SDK_REGION")
        project_id = _require(environ, "HUAWEICLOUD_SDK_PROJECT_ID")
        if not args.endpoint:
            _refuse_stubs(template)
        endpoint = args.endpoint or f"https://functiongraph.{region}.myhuaweicloud.com"
        client = build_client(_require(environ, "HUAWEICLOUD_SDK_AK"), _require(environ, "HUAWEICLOUD_SDK_SK"),
                              project_id, endpoint, environ.get("HUAWEICLOUD_SDK_SECURITY_TOKEN") or None)
        plan, api = deploy(template, client=client, region=region, project_id=project_id,
                           build_dir=Path(args.build_dir), plan_only=args.plan, out=out)
    except (TemplateError, PackagingError, DeployError) as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    verb = "planned" if args.plan else "applied"
    out(f"{len(plan.changes)} change(s) {verb}; {len(api.writes)} write call(s), {api.reads} read call(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
