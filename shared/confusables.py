"""UTS #39 confusable skeletons: two strings that look alike get the same skeleton.

``skeleton(text)`` is the function of Unicode Technical Standard #39, section 4: NFD, then each
character replaced by its prototype from Unicode's ``confusables.txt``, then NFD again. The table
is Unicode's own file, unmodified, shipped gzipped as package data (``shared/data/``; its version,
date, source and SHA-256 are in ``shared/data/confusables.json``; ``scripts/update_confusables.py``
refreshes it). Nothing here is a hand-written table.

The file is read on the first call only (about 15 ms and 1 MB of memory on a laptop), so a code
path that never compares names never pays for it.
"""

from __future__ import annotations

import unicodedata
from _thread import allocate_lock  # threading.Lock without importing threading (cold start)
from pathlib import Path

__all__ = ["CONFUSABLES_FILE", "prototypes", "skeleton"]

CONFUSABLES_FILE = Path(__file__).resolve().parent / "data" / "confusables.txt.gz"
_LOCK = allocate_lock()
_TABLE: dict[int, str] | None = None


def _parse(text: str) -> dict[int, str]:
    """``source code point -> prototype`` from confusables.txt (``SOURCE ;\\tTARGET... ;\\tMA\\t# ...``)."""
    table: dict[int, str] = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        source, target, _rest = line.split(";", 2)
        table[int(source, 16)] = "".join(chr(int(code, 16)) for code in target.split())
    return table


def prototypes() -> dict[int, str]:
    """The confusables table, read from the package data on first use (then kept)."""
    global _TABLE
    if _TABLE is None:
        with _LOCK:  # batches run in threads: read the file once
            if _TABLE is None:
                import gzip  # here, not at import: cold start

                text = gzip.decompress(CONFUSABLES_FILE.read_bytes()).decode("utf-8-sig")
                _TABLE = _parse(text)
    return _TABLE


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text``: NFD, each character mapped to its prototype, NFD."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", decomposed.translate(prototypes()))
