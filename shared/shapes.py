"""The shape of a trigger event or trace, with every value that could identify anyone replaced.

    from shared.shapes import shape_of, synthesise
    shape = shape_of(event)        # keys, types and a fixed vocabulary; placeholders for the rest
    event = synthesise(shape)      # a plausible event with that shape (for regression tests)

What survives, and nothing else:

- **keys** that read as field names (``trace_name``, ``OS-EXT-IPS:port_id``): letters, digits,
  ``_ - :``, at most 48 characters, no id-like run; any other key becomes ``"<key>"`` (numbered when
  a mapping has several). Under free-form maps (``tags``, ``metadata``...) every key is user data
  and becomes a placeholder;
- **values of vocabulary keys** (``trace_name``, ``trace_type``, ``service_type``, ``type``,
  ``source``, ``httpMethod``...: :data:`VOCABULARY_KEYS`) when they read as a word or an operation
  name (:func:`is_vocabulary_word`);
- the **structure** of paths and URNs: ``sts::<account>:assumed-agency:<agency>/<session>``
  becomes ``"<urn:sts::*:assumed-agency:*/*>"`` — segments from :data:`URN_WORDS` stay, every other
  segment is ``*``; a value that is one of those words alone (``op_service``) stays;
- JSON carried inside a string (CTS ``request`` / ``response``) as ``{"$json": <its shape>}``.

Everything else becomes a placeholder naming its type: ``"<int>"``, ``"<float>"``, ``"<bool>"``,
``"<ip>"``, ``"<cidr>"``, ``"<email>"``, ``"<url:https>"``, ``"<datetime>"``,
``"<str:len=36:uuid>"``, ``"<str:len=32:hex>"``, ``"<digits:len=12>"``, ``"<str:len=N>"``. A number
is never kept (account ids are numbers). Lists keep the distinct shapes of their first items.

What it cannot know: a key that reads as a field name but is data (a person's name used as a key
outside the free-form maps) stays, and so does a plain word under a vocabulary key (``"type":
"alice"``); in every documented shape those positions hold field names and enums. Read a capture
before sharing it.

Pure: no I/O, no imports beyond the standard library, so functions can use it (``LOG_ENVELOPE_SHAPES``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

__all__ = [
    "FORMAT",
    "VOCABULARY_KEYS",
    "FREE_FORM_KEYS",
    "URN_WORDS",
    "shape_of",
    "synthesise",
    "is_placeholder",
    "is_vocabulary_word",
]

FORMAT = "sgguard-shapes/1"

# Keys whose values are a fixed vocabulary (enums, operation names, event types), kept when they
# read as words. Anything under any other key is replaced.
VOCABULARY_KEYS = frozenset(
    {
        "trace_name",
        "trace_type",
        "trace_rating",
        "trace_status",
        "service_type",
        "resource_type",
        "tracker_name",
        "event_type",
        "job_type",
        "type",
        "source",
        "specversion",
        "datacontenttype",
        "trigger_type",
        "event_source",
        "event_version",
        "version",
        "httpMethod",
        "method",
        "req_method",
        "status",
        "action",
        "direction",
        "ethertype",
        "protocol",
        "api_version",
        "principal_is_root_user",
        "isBase64Encoded",
    }
)

# Maps whose keys are the user's own data (tag names, metadata, headers of a caller).
FREE_FORM_KEYS = frozenset(
    {"tags", "sys_tags", "metadata", "user_data", "labels", "queryStringParameters", "pathParameters", "addresses"}
)

# Segments of URNs and paths that are structure, not data (identity forms: who made a change).
URN_WORDS = frozenset(
    {
        "urn",
        "sts",
        "iam",
        "assumed-agency",
        "agency",
        "user",
        "group",
        "role",
        "root",
        "op_service",
        "op_svc_cff",
        "fgs",
        "function",
        "smn",
        "eg",
        "ecs",
        "vpc",
        "cts",
        "ports",
        "servers",
        "cloudservers",
        "security-groups",
        "security-group-rules",
        "v1",
        "v2",
        "v3",
        "v2.1",
    }
)

_MAX_ITEMS = 5  # distinct shapes kept per list
_MAX_DEPTH = 32
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_:\-]{0,47}$")
_WORD = re.compile(r"^[A-Za-z][A-Za-z0-9_.:\-]{0,47}$")  # no '/': "agency/session" is not a word
_CAMEL_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]{8,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]{0,15})://")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_MEDIA_TYPE = re.compile(r"^(application|text)/[a-z0-9.+\-]{1,40}(; ?charset=[A-Za-z0-9\-]{1,20})?$")
_PLACEHOLDER = re.compile(r"^<[^<>\"]*>$")


def is_vocabulary_word(text: str) -> bool:
    """A word or operation name (``createServerV21``, ``ECS:CloudTrace:ApiCall``, ``HC.ECS``), not a
    token: at most 48 characters, at most one group of digits, no run of 12 capitals or digits, and
    camel-case parts averaging at least 2.5 letters (a random access key has many short parts)."""
    if not _WORD.match(text) or "//" in text or "@" in text:
        return False
    if re.search(r"[A-Z0-9]{12,}", text) or _HEX.match(text) or _UUID.match(text):
        return False
    words = [part for chunk in re.split(r"[_.:\-]+", text) if chunk for part in _CAMEL_PART.findall(chunk)]
    digit_groups = sum(part.isdigit() for part in words)
    if not words or digit_groups > 1 or any(part.isdigit() and len(part) > 3 for part in words):
        return False
    return sum(len(part) for part in words) / len(words) >= 2.5


def is_placeholder(text: str) -> bool:
    return bool(_PLACEHOLDER.match(text))


def _template(text: str) -> str | None:
    """``sts::123:assumed-agency:a/b`` -> ``sts::*:assumed-agency:*/*``; None when no segment is structure."""
    parts = re.split(r"([:/])", text)
    kept = [p if p in (":", "/", "") or p in URN_WORDS else "*" for p in parts]
    return "".join(kept) if any(p in URN_WORDS for p in parts) else None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_network(text.split("%")[0], strict=False)
    except ValueError:
        return False
    return True


def _string(text: str, key: str | None) -> Any:
    if key in VOCABULARY_KEYS and _MEDIA_TYPE.match(text):
        return text  # CloudEvents' datacontenttype
    if (key in VOCABULARY_KEYS and is_vocabulary_word(text)) or text in URN_WORDS:
        return text  # a structure word alone (an older trace's user "op_service") is an identity form
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and len(stripped) >= 2:
        try:
            return {"$json": _shape(json.loads(stripped), key, 1)}
        except ValueError:
            pass
    if text in ("", "true", "false", "null"):
        return f"<str:{text or 'empty'}>"
    if _UUID.match(text):
        return f"<str:len={len(text)}:uuid>"
    if text.isdigit():
        return f"<digits:len={len(text)}>"
    if _is_address(text):
        return "<cidr>" if "/" in text else "<ip>"
    url = _URL.match(text)  # before e-mail: a URL may carry user:password@
    if url:
        scheme = url.group(1).lower()
        return f"<url:{scheme}>" if scheme in ("http", "https", "redis", "rediss", "obs") else "<url>"
    if _EMAIL.match(text):
        return "<email>"
    if _DATETIME.match(text):
        return "<datetime>"
    if _HEX.match(text):
        return f"<str:len={len(text)}:hex>"
    if (":" in text or "/" in text) and len(text) <= 512:
        template = _template(text)
        if template is not None:
            return f"<{'urn' if ':' in text else 'path'}:{template}>"
    return f"<str:len={len(text)}>"


def _key(key: str, free_form: bool, used: dict[str, int]) -> str:
    if not free_form and _KEY.match(key) and (len(key) <= 3 or is_vocabulary_word(key)):
        return key
    used["<key>"] = used.get("<key>", 0) + 1
    return "<key>" if used["<key>"] == 1 else f"<key#{used['<key>']}>"


def _shape(value: Any, key: str | None, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return "<deep>"
    if value is None:
        return None
    if isinstance(value, bool):
        return "<bool>"
    if isinstance(value, int):
        return "<int>"
    if isinstance(value, float):
        return "<float>"
    if isinstance(value, str):
        return _string(value, key)
    if isinstance(value, dict):
        used: dict[str, int] = {}
        free_form = key in FREE_FORM_KEYS
        shaped: dict[str, Any] = {}
        for name, item in value.items():
            safe = _key(str(name), free_form, used)
            shaped[safe] = _shape(item, None if safe.startswith("<") else safe, depth + 1)
        return shaped
    if isinstance(value, (list, tuple)):
        distinct: list[Any] = []
        for item in value:
            shape = _shape(item, key, depth + 1)
            if shape not in distinct:
                distinct.append(shape)
            if len(distinct) >= _MAX_ITEMS:
                break
        return distinct
    return f"<{type(value).__name__}>"


def shape_of(value: Any) -> Any:
    """The shape of a decoded JSON value (see the module docstring). Never raises."""
    return _shape(value, None, 0)


# ---- back from a shape to a plausible event (regression tests of captured shapes) ---------------
_SAMPLES = {
    "<int>": 1,
    "<float>": 1.5,
    "<bool>": True,
    "<ip>": "192.0.2.10",
    "<cidr>": "192.0.2.0/24",
    "<email>": "someone@example.com",
    "<datetime>": "2026-01-01T00:00:00Z",
    "<str:empty>": "",
    "<str:true>": "true",
    "<str:false>": "false",
    "<str:null>": "null",
    "<deep>": None,
}


def _sample_string(placeholder: str, index: int, agency: str | None) -> Any:
    if placeholder in _SAMPLES:
        return _SAMPLES[placeholder]
    inner = placeholder[1:-1]
    kind, _, rest = inner.partition(":")
    length = int(m.group(1)) if (m := re.search(r"len=(\d+)", rest)) else 8
    if kind == "str" and rest.endswith(":uuid"):
        return f"{index:08x}-0000-4000-8000-{index:012x}"
    if kind == "str" and rest.endswith(":hex"):
        return (f"ab{index:x}" + "0" * length)[:length]  # a letter first: never all digits
    if kind == "digits":
        return ("2" + "0" * length)[:length]  # a 3-digit code reads as HTTP 200
    if kind in ("urn", "path"):
        if agency and "assumed-agency:*" in rest:  # the session of a named agency (own-change tests)
            rest = rest.replace("assumed-agency:*", f"assumed-agency:{agency}", 1)
        return rest.replace("*", f"x{index}")
    if kind == "url":
        return f"{rest or 'https'}://example.com/x"
    return "x" * length


def synthesise(shape: Any, index: int = 1, *, agency: str | None = None) -> Any:
    """A value with this shape: placeholders become fixed sample values (ids are fresh per call
    index, so two synthesised events never share a server id by accident). With ``agency``, an
    assumed-agency URN names that agency (the shape hid which one it was)."""
    if isinstance(shape, str):
        return _sample_string(shape, index, agency) if is_placeholder(shape) else shape
    if isinstance(shape, dict):
        if set(shape) == {"$json"}:
            return json.dumps(synthesise(shape["$json"], index, agency=agency))
        return {
            (f"key{n}" if name.startswith("<key") else name): synthesise(item, index * 31 + n, agency=agency)
            for n, (name, item) in enumerate(shape.items())
        }
    if isinstance(shape, list):
        return [synthesise(item, index * 17 + n, agency=agency) for n, item in enumerate(shape)]
    return shape
