"""shared.errors: the error vocabulary, JSON paths and excerpts."""

import json

import pytest

from shared.errors import ErrorCode, ErrorDetail, excerpt, format_json_path

REQUIRED_CODES = """
INVALID_JSON MESSAGE_TOO_LARGE UNKNOWN_ENVELOPE SCHEMA_VIOLATION SIGNATURE_REQUIRED
SIGNATURE_INVALID SIGNATURE_EXPIRED DUPLICATE_REQUEST IN_PROGRESS REQUEST_ID_REUSED TOO_MANY_REQUESTS
SERVER_NOT_FOUND
NIC_NOT_FOUND SECURITY_GROUP_NOT_FOUND SECURITY_GROUP_AMBIGUOUS PROTECTED_GROUP
GROUP_NOT_ALLOWED TOO_MANY_GROUPS RISKY_RULE PORT_SECURITY_DISABLED EMPTY_GROUP_LIST
REORDER_MISMATCH CLOUD_ERROR TIMEOUT ROLLBACK_FAILED VERIFY_FAILED INTERNAL_ERROR
CONFIG_INVALID POLICY_INVALID SOFT_LIMIT_EXCEEDED NOT_ATTACHED EXEMPTION_EXPIRED NOT_READY RECENTLY_ADDED OWN_CHANGE
UNSUPPORTED_TRIGGER STORE_UNAVAILABLE SERVER_LOCKED CONTINUATION_EXPIRED NOT_A_NEW_SERVER CONCURRENT_CHANGE
SIGNING_KEY_RETIRING TARGET_NOT_ALLOWED AGENCY_MISSING ACCESS_DENIED ASSUME_FAILED DISCOVERY_FAILED
EVENT_TARGET_UNKNOWN BEHIND_RETRY DEAD_LETTERED
""".split()


@pytest.mark.parametrize("name", REQUIRED_CODES)
def test_every_required_code_exists_and_equals_its_name(name):
    assert getattr(ErrorCode, name) == name
    assert name in ErrorCode.all()


def test_all_lists_only_codes():
    assert ErrorCode.all() == frozenset(REQUIRED_CODES)


def test_error_detail_to_dict_and_back():
    detail = ErrorDetail(ErrorCode.SCHEMA_VIOLATION, "bad", "$.a[0]")
    assert detail.to_dict() == {"code": "SCHEMA_VIOLATION", "message": "bad", "path": "$.a[0]"}
    assert ErrorDetail.from_dict(detail.to_dict()) == detail
    assert json.loads(json.dumps(detail.to_dict())) == detail.to_dict()


def test_error_detail_defaults_to_root_and_is_frozen():
    detail = ErrorDetail(ErrorCode.INVALID_JSON, "x")
    assert detail.path == "$"
    with pytest.raises(Exception):
        detail.code = "OTHER"  # type: ignore[misc]
    assert hash(detail) == hash(ErrorDetail(ErrorCode.INVALID_JSON, "x", "$"))


@pytest.mark.parametrize(
    "parts, expected",
    [
        ([], "$"),
        (["change", "security_groups", 0, "id"], "$.change.security_groups[0].id"),
        (["target", "bogus"], "$.target.bogus"),
        ([0], "$[0]"),
        (["a b"], "$['a b']"),
        (["../x"], "$['../x']"),
        (["it's"], "$['it\\'s']"),
        (["line\nbreak"], "$['line\\u000abreak']"),
        (["9lives"], "$['9lives']"),
    ],
)
def test_format_json_path(parts, expected):
    assert format_json_path(parts) == expected


def test_format_json_path_cuts_long_member_names():
    path = format_json_path(["x" * 10000])
    assert len(path) < 80
    assert path.startswith("$['xxx") and path.endswith("...']")


@pytest.mark.parametrize("value", ["x" * 100000, list(range(100000)), b"\x00" * 5000])
def test_excerpt_is_bounded(value):
    text = excerpt(value)
    assert len(text) <= 80
    assert text.endswith("...")


def test_excerpt_keeps_short_values_readable():
    assert excerpt("abc") == "'abc'"
    assert excerpt(5) == "5"
