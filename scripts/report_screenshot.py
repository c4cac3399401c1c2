"""The README's picture of the report: the demo's estate, rendered by headless Chromium.

    make demo && .venv/bin/python scripts/report_screenshot.py

(``make browser`` installs Chromium.) Writes docs/report.png from build/demo-report/report.html.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "build" / "demo-report" / "report.html"
PICTURE = ROOT / "docs" / "report.png"


def main() -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        print("no chromium on PATH: make browser installs it", file=sys.stderr)
        return 2
    if not REPORT.is_file():
        print(f"{REPORT.relative_to(ROOT)} is missing: run make demo first", file=sys.stderr)
        return 2
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1400,800",
        f"--screenshot={PICTURE}",
        REPORT.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    print(f"wrote {PICTURE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
