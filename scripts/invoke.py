#!/usr/bin/env python3
"""Run one function of template.yaml with an event file, locally (like ``sam local invoke``).

    scripts/invoke.py FUNCTION EVENT_FILE [--endpoint URL] [--env K=V ...] [--timeout S] [--quiet]
    scripts/invoke.py change_request events/change_request/kafka.json
    scripts/invoke.py ecs_created events/ecs_created/direct.json --env READINESS_MAX_WAIT_S=5

The function's zip is built as scripts/package.py builds it and run by localcloud's local runtime:
a fresh ``python`` process with the code directory first on the path, and a FunctionGraph context
(request id, remaining time from the function's timeout, user data, agency credentials).

* User data: the function's ``user_data`` and ``encrypted_user_data`` from template.yaml, with the
  template's parameters taken from the environment, else their defaults, else local stand-ins
  (``REGION`` = localcloud's, ``SIGNING_KEYS_JSON`` = the local key of scripts/localenv.py ...);
  the endpoints (ECS, VPC, SMN, EG, FunctionGraph) point at localcloud; ``--env K=V`` sets any key
  last (e.g. ``--env RESULT_SINKS='["log"]'``).
* localcloud: ``--endpoint URL`` (one running, e.g. scripts/serve.py's), else one started in this
  process with the default seed for the invocation.
* Credentials: HUAWEICLOUD_SDK_AK / _SK / _PROJECT_ID (+ _SECURITY_TOKEN) when set, else temporary
  credentials localcloud issues for its default project (as an agency would).

The handler's log lines go to stderr, its result (JSON) to stdout. Exit status: 0 the handler
returned, 1 it raised or timed out (the error object is printed), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

__all__ = ["main", "local_parameters", "ENDPOINT_SETTINGS"]

ENDPOINT_SETTINGS = ("ECS_ENDPOINT", "VPC_ENDPOINT", "SMN_ENDPOINT", "EG_ENDPOINT", "FUNCTIONGRAPH_ENDPOINT")


def local_parameters(region: str, project_id: str) -> dict:
    """Stand-ins for the template's required parameters (the environment overrides them)."""
    from scripts.localenv import KAFKA_INSTANCE_ID, LOCAL_SIGNING_KEYS

    return {"REGION": region, "ALERT_TOPIC_URN": f"urn:smn:{region}:{project_id}:sgguard-alerts",
            "SIGNING_KEYS_JSON": json.dumps(LOCAL_SIGNING_KEYS), "KAFKA_INSTANCE_ID": KAFKA_INSTANCE_ID,
            "DEPENDENCY_ZIP": "build/sgguard-deps-local.zip"}


def _credentials(endpoint: str, project_id: str) -> tuple[str, str, str, str]:
    env = os.environ
    if env.get("HUAWEICLOUD_SDK_AK") and env.get("HUAWEICLOUD_SDK_SK"):
        return (env["HUAWEICLOUD_SDK_AK"], env["HUAWEICLOUD_SDK_SK"], env.get("HUAWEICLOUD_SDK_SECURITY_TOKEN", ""),
                env.get("HUAWEICLOUD_SDK_PROJECT_ID") or project_id)
    from localcloud.client import ControlClient

    issued = ControlClient(endpoint).temporary_credentials(project_id)
    return issued["ak"], issued["sk"], issued["security_token"], project_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("function", help="func_name in template.yaml (ecs_created, change_request)")
    parser.add_argument("event", help="event file (JSON), '-' for stdin; samples under events/")
    parser.add_argument("--endpoint", help="a running localcloud (default: start one in this process)")
    parser.add_argument("--env", action="append", default=[], metavar="K=V", help="set a user data key (repeatable)")
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("--timeout", type=int, help="override the function's timeout (seconds)")
    parser.add_argument("--quiet", action="store_true", help="do not print the log lines")
    args = parser.parse_args(argv)

    overrides = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--env {item!r}: write KEY=VALUE")
        overrides[key] = value
    try:
        text = sys.stdin.read() if args.event == "-" else Path(args.event).read_text(encoding="utf-8")
        event = json.loads(text)
    except (OSError, ValueError) as error:
        parser.error(f"event {args.event}: {error}")

    from localcloud.core.state import DEFAULT_PROJECT_ID, DEFAULT_REGION
    from localcloud.runtime.instances import CodeCache, FunctionSnapshot, Instance, invocation_request
    from scripts.deployer.packaging import PackagingError, build_function_zip
    from scripts.template import TemplateError, load_template

    cloud = None
    work = Path(tempfile.mkdtemp(prefix="sgguard-invoke-"))
    try:
        if args.endpoint:
            endpoint, region, project_id = args.endpoint.rstrip("/"), os.environ.get("REGION", DEFAULT_REGION), \
                DEFAULT_PROJECT_ID
        else:
            from localcloud import start

            cloud = start()
            endpoint, region, project_id = cloud.url, cloud.region, cloud.project_id
        environ = {**local_parameters(region, project_id), **os.environ}
        try:
            template = load_template(args.template, environ)
            spec = template.function(args.function)
        except KeyError:
            parser.error(f"no function {args.function!r} in {args.template}")
        except TemplateError as error:
            print(f"invoke: {error}", file=sys.stderr)
            return 2
        try:
            artifact = build_function_zip(template.root, spec, work / "build")
        except PackagingError as error:
            print(f"invoke: {error}", file=sys.stderr)
            return 2
        user_data = dict(spec.user_data)
        for name in ENDPOINT_SETTINGS:
            if name in user_data:
                user_data[name] = endpoint
        encrypted = dict(spec.encrypted_user_data)
        for key, value in overrides.items():
            (encrypted if key in encrypted else user_data)[key] = value
        ak, sk, token, project_id = _credentials(endpoint, project_id)
        timeout = args.timeout or spec.timeout
        code = artifact.path.read_bytes()
        snapshot = FunctionSnapshot(
            project_id=project_id, name=spec.func_name, package=spec.package,
            urn=f"urn:fss:{region}:{project_id}:function:{spec.package}:{spec.func_name}:latest", runtime=spec.runtime,
            handler=spec.handler, timeout=timeout, memory_size=spec.memory_size, code=code, sha256=artifact.sha256,
            user_data=user_data, encrypted_user_data=encrypted, xrole=spec.xrole,
            initializer_handler=spec.initializer_handler, initializer_timeout=spec.initializer_timeout)
        instance = Instance(snapshot, CodeCache(work / "cache"), work / "home")
        try:
            request = invocation_request(snapshot, str(uuid.uuid4()), event, float(timeout), (ak, sk, token))
            outcome = instance.invoke(request, timeout + 2.0)
        finally:
            instance.close()
        if not args.quiet:
            print(f"-- {spec.func_name} ({artifact.size} bytes, sha256 {artifact.sha256[:12]}) against {endpoint}: "
                  f"{'succeeded' if outcome.ok else 'failed'} in {outcome.duration_ms:.0f} ms", file=sys.stderr)
            for note in outcome.notes:
                print(f"-- {note}", file=sys.stderr)
            for line in outcome.log.splitlines():
                print(line, file=sys.stderr)
        print(json.dumps(outcome.result if outcome.ok else outcome.error, indent=2, ensure_ascii=False))
        return 0 if outcome.ok else 1
    finally:
        if cloud is not None:
            cloud.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
