"""Sample result events (events/results/) and the cold-start promise of shared.sinks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shared.results import OUTCOMES
from tests.support.sinks import assert_readable

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "events" / "results").glob("*.json"))


def test_there_is_one_sample_per_outcome():
    assert sorted(path.stem for path in SAMPLES) == sorted(OUTCOMES)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_is_a_valid_readable_result_event(path):
    event = json.loads(path.read_text(encoding="utf-8"))
    assert event["data"]["outcome"] == path.stem
    assert event["type"].endswith("." + path.stem)
    assert_readable(event)


def _run(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"HOME": str(ROOT / ".pytest_home"), "PATH": "/usr/bin:/bin"},
    )
    return completed.stdout.strip().splitlines()[-1]


_PRELUDE = (
    "import io, json, sys\n"
    "from localcloud.runtime import FunctionContext\n"
    "from shared.runtime.run import Run\n"
    "from shared.results import new_result_data\n"
    "import shared.sinks\n"
)


def test_importing_the_sinks_imports_no_sdk():
    out = _run(_PRELUDE + "print(sorted(m for m in sys.modules if m.startswith('huaweicloudsdk')))\n")
    assert out == "[]"


def test_delivering_to_the_log_and_a_webhook_imports_no_sdk():
    out = _run(
        _PRELUDE
        + "ctx = FunctionContext(user_data={'RESULT_SINKS': json.dumps(['log', {'type': 'webhook', 'name': 'x'}]),"
        " 'WEBHOOK_URLS': json.dumps({'x': 'http://127.0.0.1:9/none'}),"
        " 'WEBHOOK_SIGNING_KEYS': json.dumps({'k': 'sixteen-chars-secret'}), 'MAX_ATTEMPTS': '1',"
        " 'PROJECT_ID': 'p' * 32}, ak='a', sk='s')\n"
        "run = Run.start('change_request', ctx)\n"
        "report = shared.sinks.deliver([run.event(new_result_data('no_change'))], run, io.StringIO())\n"
        "assert report['webhook:x'] == {'delivered': 0, 'undelivered': 1}, report\n"
        "print(sorted(m for m in sys.modules if m.startswith('huaweicloudsdk')))\n"
    )
    assert out == "[]"


def test_a_cloud_sink_imports_only_its_own_sdk():
    out = _run(
        _PRELUDE + "ctx = FunctionContext(user_data={'RESULT_SINKS': json.dumps([{'type': 'smn', 'topic_urn':"
        " 'urn:smn:cn-north-4:0a1b2c3d4e5f40718293a4b5c6d7e8f9:t'}]), 'SMN_ENDPOINT': 'http://127.0.0.1:9',"
        " 'MAX_ATTEMPTS': '1', 'CONNECT_TIMEOUT_S': '0.2', 'PROJECT_ID': 'p' * 32}, ak='a', sk='s')\n"
        "run = Run.start('change_request', ctx)\n"
        "shared.sinks.deliver([run.event(new_result_data('no_change'))], run, io.StringIO())\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('huaweicloudsdk')}))\n"
    )
    assert out == "['huaweicloudsdkcore', 'huaweicloudsdksmn']"
