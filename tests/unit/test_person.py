"""shared.person and shared.confusables: the identity grammar, the comparison, and the data behind it."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from shared import confusables
from shared.errors import ErrorCode
from shared.person import IdentityError, check_identity, identity_keys, identity_problem, same_person
from shared.rails.identity import is_second_person
from shared.validation import validate_change_request
from tests.support.identities import (
    DISTINCT_PEOPLE,
    EQUAL_DISGUISES,
    IDN_DISGUISES,
    IDN_REQUESTER,
    REFUSED_DISGUISES,
    REQUESTER,
)

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------- grammar

VALID = [
    "alice",
    "alice@example.com",
    "Alice.Smith@Example.COM",
    "svc-deploy",
    "j.doe_2",
    "alice+ops@example.com",
    "alice@example.com.",  # the root dot: the same mailbox
    "alice@localhost",
    "josé",
    "zoë.müller@bücher.example",
    "нова@пример.рф",
    "张伟@例子.中国",
    "alice@xn--bcher-kva.example",
    "e\u0301cole",  # NFD é: a mark after its letter
    "0xdead",
]


@pytest.mark.parametrize("text", VALID)
def test_valid_identities(text):
    assert identity_problem(text) is None
    assert check_identity(text) is True


# (text, words the reason must contain)
INVALID = {
    "hair space": ("alice\u200a@example.com", "U+200A HAIR SPACE: white space"),
    "no-break space": ("alice\u00a0@example.com", "U+00A0 NO-BREAK SPACE: white space"),
    "ideographic space": ("ali\u3000ce@example.com", "U+3000 IDEOGRAPHIC SPACE: white space"),
    "ascii space": ("alice smith", "white space"),
    "leading space": (" alice", "character 1"),
    "tab": ("alice\t", "white space"),
    "line separator": ("alice\u2028", "white space"),
    "braille blank": ("alice@example.com\u2800", "U+2800 BRAILLE PATTERN BLANK: invisible"),
    "display name": ("Alice <alice@example.com>", "display name or angle brackets"),
    "angle brackets": ("<alice@example.com>", "display name or angle brackets"),
    "quoted local part": ('"alice"@example.com', "quotes"),
    "single quotes": ("o'brien@example.com", "quotes"),
    "curly quotes": ("\u201calice\u201d@example.com", "quotes"),
    "comment": ("alice(work)@example.com", "comments"),
    "mailto": ("MAILTO:alice@example.com", "mailto:"),
    "nul": ("alice\x00", "control"),
    "c1 control": ("alice\x85", "white space"),
    "zero width space": ("alice\u200b@example.com", "format"),
    "zero width joiner": ("al\u200dice", "format"),
    "bidi override": ("\u202ealice", "format"),
    "bom": ("alice\ufeff", "format"),
    "soft hyphen": ("ali\u00adce", "format"),
    "word joiner": ("alice\u2060", "format"),
    "tag character": ("alice\U000e0041", "format"),
    "variation selector": ("alice\ufe0f", "invisible"),
    "variation selector supplement": ("alice\U000e0100", "invisible"),
    "combining grapheme joiner": ("ali\u034fce", "invisible"),
    "hangul filler": ("alice\u3164", "invisible"),
    "halfwidth hangul filler": ("alice\uffa0", "invisible"),
    "mongolian selector": ("alice\u180b", "invisible"),
    "khmer inherent vowel": ("alice\u17b4", "invisible"),
    "private use": ("alice\ue000", "private-use"),
    "unassigned": ("alice\U0003fffd", "unassigned"),
    "symbol": ("alice\u2603", "only letters, digits"),
    "slash": ("corp/alice", "only letters, digits"),
    "backslash": ("CORP\\alice", "only letters, digits"),
    "two ats": ("alice@evil@example.com", "exactly one @"),
    "empty local part": ("@example.com", "local part"),
    "empty domain": ("alice@", "domain is empty"),
    "double dot": ("alice..b@example.com", "two dots"),
    "trailing dot in local part": ("alice.@example.com", "end with a dot"),
    "leading dot": (".alice", "begin with a letter"),
    "trailing dot in name": ("alice.", "end with a dot"),
    "plus in a name": ("alice+x", "+ is allowed only"),
    "domain double dot": ("alice@example..com", "empty label"),
    "domain two root dots": ("alice@example.com..", "empty label"),
    "domain underscore": ("alice@ex_ample.com", "not allowed in a domain"),
    "domain hyphen at the edge": ("alice@-example.com", "inner hyphens"),
    "domain reserved hyphens": ("alice@ab--cd.com", "positions 3-4"),
    "bad punycode": ("alice@xn--zzzz.example", "not a valid internationalised domain"),
    "mark without a letter": ("\u0301alice", "follows no letter"),
    "mark after a dot": ("alice.\u0301b", "follows no letter"),
    "repeated mark": ("e\u0301\u0301", "repeated"),
    "mark pile": ("a\u0300\u0301\u0302\u0303\u0304", "more than 4"),
    "empty": ("", "empty"),
    "too long": ("a" * 129, "at most 128"),
}


@pytest.mark.parametrize("text, reason", INVALID.values(), ids=INVALID.keys())
def test_invalid_identities_say_why(text, reason):
    problem = identity_problem(text)
    assert problem is not None and reason in problem, problem


def test_the_format_checker_raises_the_reason_and_leaves_type_and_length_to_the_schema():
    with pytest.raises(IdentityError, match="display name"):
        check_identity("Alice <alice@example.com>")
    assert check_identity(5) is True and check_identity("") is True and check_identity("a" * 129) is True


@pytest.mark.parametrize("field", ["requested_by", "approved_by"])
@pytest.mark.parametrize("value", REFUSED_DISGUISES.values(), ids=REFUSED_DISGUISES.keys())
def test_the_schema_refuses_a_dressed_up_identity_naming_its_path_and_reason(field, value):
    request = {
        "request_id": "CHG-1",
        "ticket": {"system": "servicenow", "id": "CHG1", "requested_by": "bob@example.com", field: value},
        "target": {"server_id": "c0000000-0000-4000-8000-000000000001"},
        "change": {"action": "add", "security_groups": [{"name": "web"}]},
    }
    [error] = validate_change_request(request)
    assert (error.code, error.path) == (ErrorCode.SCHEMA_VIOLATION, f"$.ticket.{field}")
    assert error.message.startswith(repr(value)[:20]) and "is not a valid identity: " in error.message
    assert identity_problem(value) in error.message


# ---------------------------------------------------------------- comparison


@pytest.mark.parametrize("approver", EQUAL_DISGUISES.values(), ids=EQUAL_DISGUISES.keys())
def test_the_requester_in_disguise_is_the_same_person(approver):
    assert identity_problem(approver) is None
    assert same_person(REQUESTER, approver) and same_person(approver, REQUESTER)
    assert not is_second_person(REQUESTER, approver)


@pytest.mark.parametrize("approver", IDN_DISGUISES.values(), ids=IDN_DISGUISES.keys())
def test_an_idn_domain_and_its_punycode_are_one_domain(approver):
    assert same_person(IDN_REQUESTER, approver)
    assert not is_second_person(IDN_REQUESTER, approver)
    assert not is_second_person(approver, IDN_REQUESTER)


@pytest.mark.parametrize("approver", REFUSED_DISGUISES.values(), ids=REFUSED_DISGUISES.keys())
def test_what_the_grammar_refuses_approves_nothing(approver):
    assert not is_second_person(REQUESTER, approver)
    assert not is_second_person(approver, "bob@example.com")  # nor may it request


@pytest.mark.parametrize("first, second", DISTINCT_PEOPLE, ids=[f"{a}|{b}" for a, b in DISTINCT_PEOPLE])
def test_different_people_stay_different(first, second):
    assert not same_person(first, second) and not same_person(second, first)
    assert is_second_person(first, second) and is_second_person(second, first)


def test_hoba_and_hoba_in_cyrillic_have_different_skeletons():
    # Cyrillic н and в look like small capitals ʜ and ʙ (UTS #39), not like h and b.
    assert confusables.skeleton("\u043d\u043e\u0432\u0430") == "\u029co\u0299a"
    assert confusables.skeleton("hoba") == "hoba"


def test_case_and_look_alikes_fold_in_both_orders():
    cyrillic_upper, cyrillic_lower = "\u041d\u041e\u0412\u0410", "\u043d\u043e\u0432\u0430"
    assert same_person(cyrillic_upper, cyrillic_lower)  # НОВА is нова in capitals
    assert same_person(cyrillic_upper, "HOBA")  # and looks exactly like Latin HOBA
    assert same_person("aIice", "alice")  # capital I looks like l
    assert same_person("\u017fred", "fred") and same_person("\u017fred", "sred")  # ſ looks like f, is an s (NFKC)


def test_a_name_and_an_address_with_that_local_part_are_one_person():
    assert same_person("alice", "alice@example.com")
    assert not same_person("alice", "bob@example.com")


def test_other_invalid_inputs_approve_nothing():
    assert not is_second_person(REQUESTER, None)
    assert not is_second_person(REQUESTER, 42)
    assert not is_second_person(None, "bob@example.com")
    assert is_second_person(REQUESTER, "bob@example.com")


def test_keys_of_an_address_fold_tag_dot_and_domain():
    keys = identity_keys("Alice+x@Example.COM.")
    assert keys == identity_keys("alice@example.com") == {("alice", "exarnple.corn")}  # UTS #39: m looks like rn
    assert identity_keys("alice") == {("alice", None)}


def test_lookalikes_of_plus_and_of_a_final_dot_count_as_what_they_look_like():
    assert same_person("alice+ops@example.com", "alice\u1429ops@example.com")
    assert same_person("alice@example.com.", "alice@example.com\u06f0")


# ---------------------------------------------------------------- data


def test_the_shipped_table_is_unicodes_file_as_recorded():
    provenance = json.loads((ROOT / "shared" / "data" / "confusables.json").read_text(encoding="utf-8"))
    text = gzip.decompress(confusables.CONFUSABLES_FILE.read_bytes())
    assert hashlib.sha256(text).hexdigest() == provenance["sha256"]
    body = text.decode("utf-8-sig")
    assert body.startswith("# confusables.txt") and f"# Version: {provenance['unicode_version']}" in body
    assert len(confusables.prototypes()) == provenance["mappings"]


def test_the_skeleton_follows_uts39():
    table = confusables.prototypes()
    assert table[0x0430] == "a" and table[0x0269] == "i" and table[0x0585] == "o" and table[0x006D] == "rn"
    assert confusables.skeleton("p\u0430yp\u0430l") == confusables.skeleton("paypal") == "paypal"
    # NFD before and after: a precomposed letter keeps its accent as a mark.
    assert confusables.skeleton("jos\u00e9") == unicodedata.normalize("NFD", "jos\u00e9")


def test_the_update_script_rebuilds_the_shipped_file_byte_for_byte(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("update_confusables", ROOT / "scripts" / "update_confusables.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    source = tmp_path / "confusables.txt"
    source.write_bytes(gzip.decompress(confusables.CONFUSABLES_FILE.read_bytes()))
    recorded = json.loads((ROOT / "shared" / "data" / "confusables.json").read_text(encoding="utf-8"))
    out = tmp_path / "out"
    assert script.main(["--from-file", str(source), "--expect-sha256", recorded["sha256"], "--out-dir", str(out)]) == 0
    assert (out / "confusables.txt.gz").read_bytes() == confusables.CONFUSABLES_FILE.read_bytes()
    with pytest.raises(SystemExit, match="not the expected"):
        script.main(["--from-file", str(source), "--expect-sha256", "0" * 64, "--out-dir", str(out)])
    source.write_bytes(b"# something else\n0430 ;\t0061 ;\tMA\t# x\n")
    with pytest.raises(SystemExit, match="not Unicode's confusables.txt"):
        script.main(["--from-file", str(source), "--out-dir", str(out)])


def _run(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return completed.stdout.strip()


def test_validation_loads_neither_the_table_nor_idna_for_an_ascii_identity():
    out = _run(
        "import sys\n"
        "from shared import confusables\n"
        "from shared.person import identity_problem\n"
        "assert identity_problem('alice@example.com') is None\n"
        "print(confusables._TABLE is None, 'idna' in sys.modules)\n"
    )
    assert out == "True False"


def test_the_deploy_zip_carries_the_table():
    from sgguard_cli.deployer.packaging import function_entries

    names = set(function_entries(ROOT, "functions/change_request"))
    assert {"shared/data/confusables.txt.gz", "shared/data/confusables.json"} <= names
