"""Cold start: importing the shared modules must not import jsonschema; building stays cheap."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return completed.stdout.strip()


def test_importing_shared_modules_does_not_import_jsonschema():
    out = _run(
        "import sys\n"
        "import shared.runtime.envelopes, shared.errors, shared.results, shared.signing, shared.validation\n"
        "from shared.runtime.envelopes import parse_envelope\n"
        "parse_envelope({'trigger_type': 'TIMER'})\n"
        "print('jsonschema' in sys.modules)\n"
    )
    assert out == "False"


def test_building_a_validator_skips_the_iri_grammar_but_keeps_needed_formats():
    out = _run(
        "import sys\n"
        "from shared.validation import validator_for\n"
        "checker = validator_for('change_request.v1').format_checker\n"
        "print('rfc3987_syntax' in sys.modules, sorted({'date-time', 'uri', 'ipv4', 'ipv6'} - set(checker.checkers)))\n"
    )
    assert out == "False []"


def test_without_targets_the_change_flow_never_imports_sts_or_iam():
    out = _run(
        "import sys\n"
        "import shared.flows.change_request\n"
        "from shared.config import load_settings\n"
        "load_settings(environ={})\n"
        "print(sorted(m for m in ('huaweicloudsdksts', 'huaweicloudsdkiam', 'yaml') if m in sys.modules))\n"
    )
    assert out == "[]"
