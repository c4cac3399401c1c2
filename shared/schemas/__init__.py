"""JSON Schemas shipped with the package, loaded by name.

``load_schema("change_request.v1")`` reads ``change_request.v1.json`` next to
this file once per process. Callers must not mutate the returned dict: it is
shared (the cache hands out the same object every time).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SCHEMA_DIR", "SchemaNotFound", "available_schemas", "load_schema"]

SCHEMA_DIR = Path(__file__).resolve().parent

# Names are file stems; refusing anything else keeps "../" out of the lookup.
_SCHEMA_NAME = re.compile(r"^[a-z0-9_]+(\.v[0-9]+)?$")


class SchemaNotFound(LookupError):
    """No schema file of that name ships with the package."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"no schema named {name!r} in {SCHEMA_DIR}")


def available_schemas() -> list[str]:
    """Names accepted by :func:`load_schema`."""
    return sorted(path.name[: -len(".json")] for path in SCHEMA_DIR.glob("*.json"))


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the schema ``<name>.json`` (``name`` may also end in ``.json``)."""
    stem = name[: -len(".json")] if name.endswith(".json") else name
    if not _SCHEMA_NAME.match(stem):
        raise SchemaNotFound(name)
    path = SCHEMA_DIR / f"{stem}.json"
    if not path.is_file():
        raise SchemaNotFound(name)
    with path.open("r", encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema
