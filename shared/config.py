"""Settings of a function, read from FunctionGraph user data with the environment as fallback.

``context.getUserData(key)`` carries both plain and encrypted user data (signing keys belong in
the encrypted part). Every setting is parsed and checked here, once, so that a typo in the
console fails the invocation loudly with the setting's name instead of misbehaving later.

Over 400 lines: every setting of the three functions is parsed here and only here (a test checks
that no other module reads user data), so the module grows with each setting.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from shared.records import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TypeVar

    from shared.targets import Targets

    _N = TypeVar("_N", int, float)

__all__ = ["Settings", "ConfigError", "load_settings", "read_setting", "redact_store_url"]

API_MAX_GROUPS_PER_PORT = 100  # the VPC API's default quota (doc)


class ConfigError(Exception):
    """A setting is missing or malformed; ``name`` says which."""

    def __init__(self, name: str, message: str):
        super().__init__(f"setting {name}: {message}")
        self.name = name
        self.message = message


@record(frozen=True)
class Settings:
    """Every setting of a function, parsed and checked (:func:`load_settings`); immutable for the invocation."""

    region: str = "cn-north-4"
    project_id: str | None = None
    ecs_endpoint: str = ""
    vpc_endpoint: str = ""
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    max_attempts: int = 6
    backoff_base_s: float = 0.2
    backoff_max_s: float = 5.0
    safety_margin_ms: int = 1500  # kept back from the invocation's remaining time for rollback + emit
    # How the safety margin is shared once processing stops: rolling back a half-applied change may
    # use the first part, delivering the results the second; together never more than the margin.
    rollback_margin_share: float = 0.5
    delivery_margin_share: float = 0.5
    concurrency: int = 16
    max_messages_per_invocation: int = 0  # MAX_MESSAGES_PER_INVOCATION: then hand the rest on (0: no bound)
    group_cache_ttl_s: float = 60.0
    facts_max_age_ms: int = (
        1000  # FACTS_MAX_AGE_MS: the rails decide on facts read at most this long before (0: per decision)
    )
    # WRITE_STRATEGY: "fewest_calls" (a change that takes several delta calls is one whole-list write
    # from the list read just before it) or "deltas" (v3 insert/remove only, but for reorders)
    write_strategy: str = "fewest_calls"
    # guard rails
    protected_groups: tuple[str, ...] = ()
    allowed_groups: tuple[str, ...] = ("*",)
    soft_max_groups: int = 5
    hard_max_groups: int = 10
    risky_ports: tuple[int, ...] = (22, 3389)
    # a change may not newly open a risky port to the public when, after it, more public addresses
    # than this reach the port (per family; RISKY_MAX_ADDRESSES, the old name, sets both)
    risky_max_public_ipv4: int = 2**24
    risky_max_public_ipv6: int = 2**96
    allow_approved_risky: bool = True
    pin_protected_first: bool = False  # protected groups must stay at the highest priority
    # authenticity
    signing_keys: Mapping[str, str] = field(default_factory=dict, repr=False)
    retiring_signing_keys: tuple[str, ...] = ()  # RETIRING_SIGNING_KEYS: still valid, each use warned about
    require_signed: bool = True
    signature_max_skew_s: int = 300
    replay_window_s: int = 600
    ledger_ttl_s: int = 86400  # LEDGER_TTL_S: how long sg_drift keeps a group sgguard added (0: no ledger)
    max_message_bytes: int = 65536
    max_requests_per_call: int = 50  # requests in one APIG body; more is answered 413
    # result delivery
    result_sinks: tuple[dict[str, Any], ...] = ({"type": "log"},)
    # ECS creation
    policy: str | None = None
    policy_file: str = "policy.yaml"
    readiness_max_wait_s: float = 120.0
    readiness_poll_s: float = 0.5  # first interval; grows x1.5 up to readiness_poll_max_s
    readiness_poll_max_s: float = 3.0  # caps how late after the build the groups arrive
    creation_max_age_s: float = 420.0  # CREATION_MAX_AGE_S: an older server is not new (default: readiness + 300 s)
    ecs_created_mode: str = "enforce"  # ECS_CREATED_MODE: enforce | report (plan and emit, write nothing)
    # idempotency: "memory" (per instance) or a redis:// / rediss:// URL (shared; may hold a password)
    idempotency_store: str = field(default="memory", repr=False)
    # sg_drift
    drift_mode: str = "report"  # DRIFT_MODE: report | enforce
    drift_remove_risky: bool = False  # DRIFT_REMOVE_RISKY: enforce also removes a group that exposes a risky port
    agency_name: str | None = "sgguard-functions"  # SGGUARD_AGENCY (template: AGENCY_NAME): its traces are not drift
    drift_sweep_page: int = 1000  # DRIFT_SWEEP_PAGE: servers listed per ECS page
    drift_sweep_pages_per_invocation: int = 0  # DRIFT_SWEEP_PAGES_PER_INVOCATION: then continue (0: no bound)
    # FunctionGraph (continuations, the functiongraph sink) and the other sinks' services
    functiongraph_endpoint: str = ""
    eg_endpoint: str = ""
    smn_endpoint: str = ""
    self_function_urn: str | None = None  # SELF_FUNCTION_URN: overrides the URN built from the context
    dead_letter_topic_urn: str | None = None  # DEAD_LETTER_TOPIC_URN: SMN topic of what the retry lane gave up on
    function_package: str = "default"  # FUNCTION_PACKAGE: the package part of this function's URN
    function_name: str | None = None  # RUNTIME_FUNC_NAME (preset by FunctionGraph)
    function_version: str | None = None  # RUNTIME_FUNC_VERSION (preset by FunctionGraph)
    function_timeout_s: float | None = None  # RUNTIME_TIMEOUT (preset by FunctionGraph)
    webhook_urls: Mapping[str, Any] = field(default_factory=dict)  # WEBHOOK_URLS: name -> URL
    webhook_signing_keys: Mapping[str, Any] = field(default_factory=dict, repr=False)  # WEBHOOK_SIGNING_KEYS
    log_envelope_shapes: int = 0  # LOG_ENVELOPE_SHAPES: log the redacted shape of the first N envelopes per instance
    # organisation scale (docs/organisation.md): TARGETS / TARGETS_FILE; None: the home project only, as before
    targets: Targets | None = field(default=None, repr=False)
    # STS_ENDPOINT, else the SDK's own HUAWEICLOUD_SDK_STS_ENDPOINT; empty: StsRegion's endpoint of REGION
    sts_endpoint: str = ""

    def __post_init__(self) -> None:
        if self.rollback_margin_share + self.delivery_margin_share > 1.0:
            raise ConfigError("SAFETY_MARGIN_MS", "rollback and delivery may not share more than the whole margin")

    def __repr__(self) -> str:  # never print the signing secrets nor the store's password
        return (
            f"Settings(region={self.region!r}, project_id={self.project_id!r}, keys={sorted(self.signing_keys)}, "
            f"store={redact_store_url(self.idempotency_store)!r})"
        )


def read_setting(context: Any, name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """User data first (FunctionGraph), then the process environment."""
    value = None
    if context is not None and hasattr(context, "getUserData"):
        try:
            value = context.getUserData(name)
        except Exception:  # some runtimes raise for a missing key instead of returning None
            value = None
    if value in (None, ""):
        value = (environ if environ is not None else os.environ).get(name)
    return value if value not in (None, "") else None


_TOPIC_URN = r"^urn:smn:[a-z0-9-]+:[0-9a-f]{32}:[A-Za-z0-9][A-Za-z0-9_-]{0,255}\Z"  # compiled on first use (cold start)


def _topic_urn(name: str, raw: str | None) -> str | None:
    if raw is not None and not re.match(_TOPIC_URN, raw):  # it goes into an API path
        raise ConfigError(name, f"must be an SMN topic URN urn:smn:<region>:<project_id>:<topic>, got {raw[:80]!r}")
    return raw


def _number(name: str, raw: str | None, default: _N, kind: type[_N], low: float, high: float) -> _N:
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(name, f"must be a {kind.__name__}, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be within {low}..{high}, got {value}")
    return value


def _optional_number(name: str, raw: str | None) -> float | None:
    """A platform-preset number: None when absent or unreadable (it is not ours to refuse)."""
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _boolean(name: str, raw: str | None, default: bool) -> bool:
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(name, f"must be true or false, got {raw[:40]!r}")


def _list(name: str, raw: str | None, default: tuple[Any, ...]) -> tuple[Any, ...]:
    """A JSON list or a comma-separated string."""
    if raw is None:
        return default
    text = raw.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            raise ConfigError(name, "is not a valid JSON list") from None
        if not isinstance(items, list):
            raise ConfigError(name, "must be a list")
        return tuple(items)
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _signing_keys(raw: str | None) -> dict[str, str]:
    if raw is None:
        return {}
    try:
        keys = json.loads(raw)
    except ValueError:
        raise ConfigError("REQUEST_SIGNING_KEYS", "must be a JSON object key_id -> secret") from None
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) >= 16 for k, v in keys.items()
    ):
        raise ConfigError("REQUEST_SIGNING_KEYS", "must map key ids to secrets of at least 16 characters")
    return keys


def _retiring_keys(raw: str | None, keys: Mapping[str, str]) -> tuple[str, ...]:
    """Key ids being rotated out: each must be one of ``REQUEST_SIGNING_KEYS`` (a typo would warn about nothing)."""
    retiring = _list("RETIRING_SIGNING_KEYS", raw, ())
    for key_id in retiring:
        if not isinstance(key_id, str) or key_id not in keys:
            shown = repr(key_id)[:40]
            raise ConfigError(
                "RETIRING_SIGNING_KEYS", f"names key id {shown}, which REQUEST_SIGNING_KEYS does not have"
            )
    return tuple(retiring)


def _sinks(raw: str | None) -> tuple[dict[str, Any], ...]:
    if raw is None:
        return ({"type": "log"},)
    items = _list("RESULT_SINKS", raw, ())
    sinks = []
    for item in items:
        sinks.append(item if isinstance(item, dict) else {"type": str(item)})
    if not all(isinstance(sink.get("type"), str) for sink in sinks):
        raise ConfigError("RESULT_SINKS", "every sink needs a type")
    from shared.results import OUTCOMES  # vocabulary too; only when sinks are configured

    for index, sink in enumerate(sinks):
        outcomes = sink.get("outcomes")
        if outcomes is not None and (
            not isinstance(outcomes, list) or not outcomes or any(o not in OUTCOMES for o in outcomes)
        ):
            raise ConfigError("RESULT_SINKS", f"[{index}].outcomes must be a non-empty list of: {', '.join(OUTCOMES)}")
        if not isinstance(sink.get("own_changes", False), bool):
            raise ConfigError("RESULT_SINKS", f"[{index}].own_changes must be true or false")
    return tuple(sinks)


def redact_store_url(url: str) -> str:
    """The store URL without its password (safe to log)."""
    if url == "memory":
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    user = parts.username or ""
    auth = f"{user}:***@" if parts.password is not None else (f"{user}@" if user else "")
    return f"{parts.scheme}://{auth}{host}{port}{parts.path}"


def _idempotency_store(raw: str | None) -> str:
    """``memory`` or ``redis[s]://[[user]:password@]host[:port][/db]``; errors never echo the URL (password)."""
    name = "IDEMPOTENCY_STORE"
    if raw is None or raw.strip().lower() == "memory":
        return "memory"
    text = raw.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError when not a number / out of range
    except ValueError:
        raise ConfigError(name, "must be memory or redis://[:password@]host:port/db (port 1..65535)") from None
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError(name, "must be memory or a redis:// or rediss:// URL")
    if not parts.hostname:
        raise ConfigError(name, "the redis URL needs a host")
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(name, "the port must be within 1..65535")
    if parts.query or parts.fragment:
        raise ConfigError(name, "the redis URL takes no query or fragment (timeouts are set by sgguard)")
    db = parts.path.lstrip("/")
    if db and not (db.isdigit() and int(db) <= 255):
        raise ConfigError(name, "the database must be a number within 0..255")
    return text


def _json_object(name: str, raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ConfigError(name, "must be a JSON object") from None
    if not isinstance(value, dict):
        raise ConfigError(name, "must be a JSON object")
    return value


def _choice(name: str, raw: str | None, default: str, choices: tuple[str, ...]) -> str:
    value = (raw or default).strip().lower()
    if value not in choices:
        raise ConfigError(name, f"must be {' or '.join(choices)}, got {(raw or '')[:40]!r}")
    return value


# Services whose public endpoint in eu-west-101 is under myhuaweicloud.eu.
_EU_DOMAIN_SERVICES = frozenset({"eg", "smn"})


def _endpoint(raw: str | None, service: str, region: str) -> str:
    """``<SERVICE>_ENDPOINT``, or the service's public endpoint in the region."""
    if raw and raw.strip():
        return raw.strip().rstrip("/")
    domain = "myhuaweicloud.eu" if region == "eu-west-101" and service in _EU_DOMAIN_SERVICES else "myhuaweicloud.com"
    return f"https://{service}.{region}.{domain}"


def _platform_project_id(context: Any, environ: Mapping[str, str] | None) -> str | None:
    """The project id FunctionGraph provides: the preset environment variable ``RUNTIME_PROJECT_ID``
    (documented: "environment variables: preset values"), else ``context.getProjectID()`` on a runtime
    that has it (the documented context table does not list it)."""
    value = (environ if environ is not None else os.environ).get("RUNTIME_PROJECT_ID")
    if value:
        return value
    method = getattr(context, "getProjectID", None)
    return (method() or None) if callable(method) else None


def _package_root() -> Path:
    return Path(__file__).resolve().parents[1]  # resolved when a TARGETS_FILE is read, not at import


def _targets_file_text(raw: str, environ: Mapping[str, str] | None) -> str:
    """``TARGETS_FILE``: a relative path in the code package (``RUNTIME_CODE_ROOT``, else the package)."""
    name = "TARGETS_FILE"
    relative = Path(raw.strip())
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ConfigError(name, "must be a relative path inside the code package")
    code_root = (environ if environ is not None else os.environ).get("RUNTIME_CODE_ROOT") or "/opt/function/code"
    for base in (Path(code_root), _package_root()):
        candidate = base / relative
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise ConfigError(name, f"no file {str(relative)[:80]!r} in the code package")


@lru_cache(maxsize=8)
def _parsed_targets(name: str, text: str, region: str) -> Targets:
    """Parsed once per text: an instance re-reads the setting every invocation, not the schema."""
    from shared.targets import TargetsError, parse_targets

    if name == "TARGETS":
        try:
            document = json.loads(text)
        except ValueError:
            raise ConfigError(name, "is not valid JSON") from None
    else:
        import yaml  # only for a TARGETS_FILE

        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(name, f"is not valid YAML ({type(error).__name__})") from None
    try:
        return parse_targets(document, home_region=region)
    except TargetsError as error:
        raise ConfigError(name, str(error)[:2000]) from None


def _targets(
    inline: str | None, file_name: str | None, region: str, environ: Mapping[str, str] | None
) -> Targets | None:
    if inline is not None and file_name is not None:
        raise ConfigError("TARGETS", "set TARGETS or TARGETS_FILE, not both")
    if inline is not None:
        return _parsed_targets("TARGETS", inline, region)
    if file_name is not None:
        return _parsed_targets("TARGETS_FILE", _targets_file_text(file_name, environ), region)
    return None


def load_settings(context: Any = None, environ: Mapping[str, str] | None = None) -> Settings:
    def get(name: str) -> str | None:
        return read_setting(context, name, environ)

    region = get("REGION") or "cn-north-4"
    project_id = get("PROJECT_ID") or _platform_project_id(context, environ)
    soft = _number("MAX_GROUPS_PER_NIC", get("MAX_GROUPS_PER_NIC"), 5, int, 1, API_MAX_GROUPS_PER_PORT)
    hard = _number(
        "MAX_GROUPS_PER_NIC_HARD", get("MAX_GROUPS_PER_NIC_HARD"), max(10, soft), int, 1, API_MAX_GROUPS_PER_PORT
    )
    if hard < soft:
        raise ConfigError("MAX_GROUPS_PER_NIC_HARD", f"must be at least MAX_GROUPS_PER_NIC ({soft})")
    risky = _list("RISKY_PORTS", get("RISKY_PORTS"), (22, 3389))
    try:
        risky_ports = tuple(int(port) for port in risky)
    except (TypeError, ValueError):
        raise ConfigError("RISKY_PORTS", "must list port numbers") from None
    if not all(1 <= port <= 65535 for port in risky_ports):
        raise ConfigError("RISKY_PORTS", "ports must be within 1..65535")
    skew = _number("SIGNATURE_MAX_SKEW_S", get("SIGNATURE_MAX_SKEW_S"), 300, int, 1, 86400)
    replay_window = _number("REPLAY_WINDOW_S", get("REPLAY_WINDOW_S"), max(600, 2 * skew), int, 1, 7 * 86400)
    if replay_window < 2 * skew:
        # A signature is valid for +-skew: a shorter memory would let a replay outlive it and pass.
        raise ConfigError(
            "REPLAY_WINDOW_S", f"must be at least twice SIGNATURE_MAX_SKEW_S ({2 * skew} s), got {replay_window}"
        )
    legacy_max = get("RISKY_MAX_ADDRESSES")
    legacy = None if legacy_max is None else _number("RISKY_MAX_ADDRESSES", legacy_max, 0, int, 0, 2**128)
    legacy_v4, legacy_v6 = (2**24, 2**96) if legacy is None else (min(legacy, 2**32), legacy)
    readiness_max_wait_s = _number("READINESS_MAX_WAIT_S", get("READINESS_MAX_WAIT_S"), 120.0, float, 0, 900)
    signing_keys = _signing_keys(get("REQUEST_SIGNING_KEYS"))
    return Settings(
        region=region,
        project_id=project_id,
        ecs_endpoint=_endpoint(get("ECS_ENDPOINT"), "ecs", region),
        vpc_endpoint=_endpoint(get("VPC_ENDPOINT"), "vpc", region),
        connect_timeout_s=_number("CONNECT_TIMEOUT_S", get("CONNECT_TIMEOUT_S"), 3.0, float, 0.05, 60),
        read_timeout_s=_number("READ_TIMEOUT_S", get("READ_TIMEOUT_S"), 10.0, float, 0.05, 120),
        max_attempts=_number("MAX_ATTEMPTS", get("MAX_ATTEMPTS"), 6, int, 1, 20),
        backoff_base_s=_number("BACKOFF_BASE_S", get("BACKOFF_BASE_S"), 0.2, float, 0.0, 10),
        backoff_max_s=_number("BACKOFF_MAX_S", get("BACKOFF_MAX_S"), 5.0, float, 0.0, 60),
        safety_margin_ms=_number("SAFETY_MARGIN_MS", get("SAFETY_MARGIN_MS"), 1500, int, 0, 60000),
        concurrency=_number("CONCURRENCY", get("CONCURRENCY"), 16, int, 1, 64),
        max_messages_per_invocation=_number(
            "MAX_MESSAGES_PER_INVOCATION", get("MAX_MESSAGES_PER_INVOCATION"), 0, int, 0, 100_000
        ),
        group_cache_ttl_s=_number("GROUP_CACHE_TTL_S", get("GROUP_CACHE_TTL_S"), 60.0, float, 0, 3600),
        facts_max_age_ms=_number("FACTS_MAX_AGE_MS", get("FACTS_MAX_AGE_MS"), 1000, int, 0, 60000),
        write_strategy=_choice("WRITE_STRATEGY", get("WRITE_STRATEGY"), "fewest_calls", ("fewest_calls", "deltas")),
        protected_groups=_list("PROTECTED_GROUPS", get("PROTECTED_GROUPS"), ()),
        allowed_groups=_list("ALLOWED_GROUPS", get("ALLOWED_GROUPS"), ("*",)),
        soft_max_groups=soft,
        hard_max_groups=hard,
        risky_ports=risky_ports,
        risky_max_public_ipv4=_number("RISKY_MAX_PUBLIC_IPV4", get("RISKY_MAX_PUBLIC_IPV4"), legacy_v4, int, 0, 2**32),
        risky_max_public_ipv6=_number("RISKY_MAX_PUBLIC_IPV6", get("RISKY_MAX_PUBLIC_IPV6"), legacy_v6, int, 0, 2**128),
        pin_protected_first=_boolean("PIN_PROTECTED_FIRST", get("PIN_PROTECTED_FIRST"), False),
        allow_approved_risky=_boolean("ALLOW_APPROVED_RISKY", get("ALLOW_APPROVED_RISKY"), True),
        signing_keys=signing_keys,
        retiring_signing_keys=_retiring_keys(get("RETIRING_SIGNING_KEYS"), signing_keys),
        require_signed=_boolean("REQUIRE_SIGNED_REQUESTS", get("REQUIRE_SIGNED_REQUESTS"), True),
        signature_max_skew_s=skew,
        replay_window_s=replay_window,
        ledger_ttl_s=_number("LEDGER_TTL_S", get("LEDGER_TTL_S"), 86400, int, 0, 90 * 86400),
        max_message_bytes=_number("MAX_MESSAGE_BYTES", get("MAX_MESSAGE_BYTES"), 65536, int, 256, 6 * 2**20),
        max_requests_per_call=_number("MAX_REQUESTS_PER_CALL", get("MAX_REQUESTS_PER_CALL"), 50, int, 1, 1000),
        result_sinks=_sinks(get("RESULT_SINKS")),
        policy=get("POLICY"),
        policy_file=get("POLICY_FILE") or "policy.yaml",
        readiness_max_wait_s=readiness_max_wait_s,
        readiness_poll_s=_number("READINESS_POLL_S", get("READINESS_POLL_S"), 0.5, float, 0.01, 60),
        readiness_poll_max_s=_number("READINESS_POLL_MAX_S", get("READINESS_POLL_MAX_S"), 3.0, float, 0.01, 120),
        creation_max_age_s=_number(
            "CREATION_MAX_AGE_S", get("CREATION_MAX_AGE_S"), readiness_max_wait_s + 300.0, float, 1, 30 * 86400
        ),
        ecs_created_mode=_choice("ECS_CREATED_MODE", get("ECS_CREATED_MODE"), "enforce", ("enforce", "report")),
        idempotency_store=_idempotency_store(get("IDEMPOTENCY_STORE")),
        drift_mode=_choice("DRIFT_MODE", get("DRIFT_MODE"), "report", ("report", "enforce")),
        drift_remove_risky=_boolean("DRIFT_REMOVE_RISKY", get("DRIFT_REMOVE_RISKY"), False),
        agency_name=get("SGGUARD_AGENCY") or "sgguard-functions",
        drift_sweep_page=_number("DRIFT_SWEEP_PAGE", get("DRIFT_SWEEP_PAGE"), 1000, int, 1, 1000),
        drift_sweep_pages_per_invocation=_number(
            "DRIFT_SWEEP_PAGES_PER_INVOCATION", get("DRIFT_SWEEP_PAGES_PER_INVOCATION"), 0, int, 0, 1000
        ),
        functiongraph_endpoint=_endpoint(get("FUNCTIONGRAPH_ENDPOINT"), "functiongraph", region),
        eg_endpoint=_endpoint(get("EG_ENDPOINT"), "eg", region),
        smn_endpoint=_endpoint(get("SMN_ENDPOINT"), "smn", region),
        self_function_urn=get("SELF_FUNCTION_URN"),
        dead_letter_topic_urn=_topic_urn("DEAD_LETTER_TOPIC_URN", get("DEAD_LETTER_TOPIC_URN")),
        function_package=get("FUNCTION_PACKAGE") or "default",
        function_name=get("RUNTIME_FUNC_NAME"),
        function_version=get("RUNTIME_FUNC_VERSION"),
        function_timeout_s=_optional_number("RUNTIME_TIMEOUT", get("RUNTIME_TIMEOUT")),
        webhook_urls=_json_object("WEBHOOK_URLS", get("WEBHOOK_URLS")),
        webhook_signing_keys=_json_object("WEBHOOK_SIGNING_KEYS", get("WEBHOOK_SIGNING_KEYS")),
        log_envelope_shapes=_number("LOG_ENVELOPE_SHAPES", get("LOG_ENVELOPE_SHAPES"), 0, int, 0, 1000),
        targets=_targets(get("TARGETS"), get("TARGETS_FILE"), region, environ),
        sts_endpoint=(get("STS_ENDPOINT") or get("HUAWEICLOUD_SDK_STS_ENDPOINT") or "").strip().rstrip("/"),
    )
