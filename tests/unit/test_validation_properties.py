"""Property tests: decoding and validation never raise; generated valid requests validate."""

import json
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.errors import ErrorCode, ErrorDetail, format_json_path
from shared.timestamps import format_timestamp
from shared.validation import decode_json_message, validate_change_request
from tests.support.identities import identities

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------- arbitrary JSON-ish input

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=30,
)
# Request-shaped noise: the real keys with arbitrary values, to reach deep schema branches.
request_keys = st.sampled_from(
    [
        "request_id",
        "ticket",
        "target",
        "change",
        "dry_run",
        "signature",
        "schema_version",
        "nics",
        "server_id",
        "security_groups",
        "action",
        "position",
        "id",
        "name",
        "ip",
        "port_id",
        "system",
    ]
)
request_shaped = st.recursive(
    json_scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(request_keys, children, max_size=6)),
    max_leaves=25,
)


def _check_outcome(value, error):
    if error is not None:
        assert value is None
        assert isinstance(error, ErrorDetail)
        assert error.code in (ErrorCode.INVALID_JSON, ErrorCode.MESSAGE_TOO_LARGE)
        return
    errors = validate_change_request(value)
    assert isinstance(errors, list)
    assert len(errors) <= 20
    for detail in errors:
        assert isinstance(detail, ErrorDetail)
        assert detail.code == ErrorCode.SCHEMA_VIOLATION
        assert detail.path.startswith("$")


@SETTINGS
@given(json_values)
def test_any_json_value_decodes_and_validates_without_raising(value):
    _check_outcome(*decode_json_message(value))


@SETTINGS
@given(request_shaped)
def test_request_shaped_values_never_raise(value):
    _check_outcome(*decode_json_message(value))


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_decode_without_raising(raw):
    _check_outcome(*decode_json_message(raw))


@SETTINGS
@given(st.text(max_size=300))
def test_any_text_decodes_without_raising(raw):
    _check_outcome(*decode_json_message(raw))


@SETTINGS
@given(json_values)
def test_json_text_of_any_value_round_trips_or_is_refused(value):
    try:
        text = json.dumps(value)
    except (ValueError, TypeError):
        return
    decoded, error = decode_json_message(text)
    _check_outcome(decoded, error)


# ---------------------------------------------------------------- valid requests


def _regex(pattern):
    return st.from_regex(pattern, fullmatch=True)


uuids = st.uuids().map(str)
person = identities()  # a bare address or a plain principal name, any script (shared.person)
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https"]),
    _regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}"),
    _regex(r"[A-Za-z0-9._~-]{0,30}"),
)


@st.composite
def tickets(draw):
    ticket = {
        "system": draw(_regex(r"[a-z0-9][a-z0-9_-]{0,31}")),
        "id": draw(_regex(r"[A-Za-z0-9][A-Za-z0-9._:/#-]{0,63}")),
        "requested_by": draw(person),
    }
    if draw(st.booleans()):
        ticket["approved_by"] = draw(person)
    if draw(st.booleans()):
        ticket["url"] = draw(urls)
    return ticket


nic_selectors = st.one_of(
    st.builds(lambda v: {"port_id": v}, uuids),
    st.builds(lambda v: {"ip": v}, st.ip_addresses().map(str)),
    st.builds(lambda v: {"subnet_id": v}, uuids),
)
group_refs = st.one_of(
    st.builds(lambda v: {"id": v}, uuids),
    st.builds(lambda v: {"name": v}, _regex(r"[A-Za-z0-9_.-]{1,64}")),
)
timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2099, 12, 31),
    timezones=st.just(timezone.utc),
).map(format_timestamp)


@st.composite
def valid_requests(draw):
    action = draw(st.sampled_from(["replace", "add", "remove", "reorder"]))
    target = {"server_id": draw(uuids)}
    nics = draw(
        st.one_of(
            st.none(),
            st.sampled_from(["primary", "all"]),
            st.lists(nic_selectors, min_size=1, max_size=16, unique_by=lambda d: json.dumps(d)),
        )
    )
    if nics is not None:
        target["nics"] = nics
    change = {
        "action": action,
        "security_groups": draw(st.lists(group_refs, min_size=1, max_size=10, unique_by=lambda d: json.dumps(d))),
    }
    if action == "add" and draw(st.booleans()):
        change["position"] = draw(st.integers(0, 99))
    request = {
        "request_id": draw(_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")),
        "ticket": draw(tickets()),
        "target": target,
        "change": change,
    }
    if draw(st.booleans()):
        request["dry_run"] = draw(st.booleans())
    if draw(st.booleans()):
        request["schema_version"] = "1"
    if draw(st.booleans()):
        request["signature"] = {
            "key_id": draw(_regex(r"[A-Za-z0-9._-]{1,64}")),
            "timestamp": draw(timestamps),
            "value": draw(_regex(r"[0-9a-f]{64}")),
        }
    return request


@SETTINGS
@given(valid_requests())
def test_generated_valid_requests_validate(request):
    assert validate_change_request(request) == []


@SETTINGS
@given(valid_requests())
def test_generated_valid_requests_survive_the_wire(request):
    value, error = decode_json_message(json.dumps(request).encode("utf-8"))
    assert error is None
    assert validate_change_request(value) == []


@SETTINGS
@given(
    valid_requests(),
    st.text(min_size=1, max_size=10).filter(
        lambda k: k not in {"request_id", "ticket", "target", "change", "dry_run", "signature", "schema_version"}
    ),
)
def test_any_unknown_root_key_is_named_in_the_path(request, key):
    request[key] = 1
    errors = validate_change_request(request)
    assert len(errors) == 1
    assert errors[0].code == ErrorCode.SCHEMA_VIOLATION
    assert errors[0].path == format_json_path([key])
