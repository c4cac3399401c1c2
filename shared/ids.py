"""The shapes of the ids sgguard checks before an id goes into a URL or a result.

Kept apart from :mod:`shared.model` (which re-exports them): a trace that is not a creation is
checked with these and never needs the model's dataclasses (cold start).
"""

from __future__ import annotations

import re

__all__ = ["UUID_RE", "SAFE_ID_RE", "is_uuid", "is_safe_id"]

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")  # \Z: no "id\n"


SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")  # request and trace ids echoed in results


def is_safe_id(value: object) -> bool:
    return isinstance(value, str) and bool(SAFE_ID_RE.match(value))


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(UUID_RE.match(value))
