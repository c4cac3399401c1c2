"""The JavaScript signer (recipes/javascript/sgguard-sign.js) signs exactly as shared/signing.py verifies.

Each case is JSON *text*, parsed by both sides (json.loads / JSON.parse) from the same bytes; the
canonical bytes, the HMAC and the refusals must agree, and the body the JS produces must pass the
functions' verifier. The library runs in a bare ``vm`` context (no require, Buffer or crypto), as in
a ServiceNow Script Include; one test loads it with ``require`` as a Node module. A last test feeds
a subtly wrong copy of the library through the same comparison and expects it caught.
"""

from __future__ import annotations

import json
import random
import re
import struct

import pytest

from shared.canonical_json import CanonicalJsonError, canonical_json
from shared.signing import sign_request, verify_request_signature
from shared.timestamps import parse_timestamp
from tests.support.node import RECIPES, run_node

LIBRARY = RECIPES / "javascript" / "sgguard-sign.js"
TIMESTAMP = "2026-11-28T21:00:00Z"
SECRETS = {
    "ticketing-1": "local-demo-signing-key-0001",
    "long": "a-much-longer-secret-than-one-sha256-block-" * 3,  # > 64 bytes: hashed first
    "block": "b" * 64,  # exactly one SHA-256 block: used as it is
    "block-plus-1": "c" * 65,  # one byte more: hashed first
    "unicode": "sécrèt-🔑-ключ-秘密-0123",  # multi-byte and non-BMP in the key itself
}

# (name, JSON text). Escapes are JSON's own: both parsers read them, neither normalises.
CORPUS = [
    ("empty object", "{}"),
    ("empty containers", '{"a": [], "b": {}, "c": [[], {}], "d": [{}]}'),
    (
        "change request",
        '{"request_id": "CHG0031337", "ticket": {"system": "servicenow", "id": "CHG0031337",'
        ' "requested_by": "alice@example.com", "approved_by": "bob@example.com"},'
        ' "target": {"server_id": "c0000000-0000-4000-8000-000000000001", "nics": [{"ip": "10.0.0.5"}]},'
        ' "change": {"action": "add",'
        ' "security_groups": [{"name": "web"}, {"id": "a0000000-0000-4000-8000-000000000002"}],'
        ' "position": 0}, "dry_run": false}',
    ),
    ("replaces an old signature", '{"z": 1, "signature": {"key_id": "old", "timestamp": "x", "value": "00"}}'),
    ("latin and cyrillic", '{"requested_by": "zoë.ångström@example.com", "note": "Привет"}'),
    ("non-BMP literal", '{"emoji": "🔐😀", "math": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "cjk-ext-b": "𠀋"}'),
    ("non-BMP escaped", r'{"emoji": "\ud83d\ude00", "mixed": "a\uD834\uDD1Eb"}'),
    ("combining marks stay unnormalised", '{"nfd": "e\u0301", "nfc": "\u00e9", "stack": "a\u0300\u0301\u0302"}'),
    ("escapes", r'{"q": "\"quoted\"", "bs": "back\\slash", "slash": "\/", "ctl": "\b\f\n\r\t", "nul": "\u0000"}'),
    ("other controls and DEL", r'{"c": "\u0001\u001f\u000b", "del": "\u007f", "nbsp": "\u00a0"}'),
    ("line separators", r'{"ls": "\u2028", "ps": "\u2029", "bom": "\ufeff", "nonchar": "\uffff"}'),
    ("html-ish", '{"x": "<img src=x onerror=alert(1)>", "amp": "&", "apos": "\'"}'),
    # UTF-16 order differs from code point order: U+FF61 sorts after U+1F600's lead surrogate U+D83D.
    ("keys by UTF-16 code units", r'{"\uff61": 1, "\ud83d\ude00": 2, "\ue000": 3, "a": 4, "B": 5, "": 6}'),
    ("keys that look like numbers", '{"10": "a", "9": "b", "1": "c", "01": "d", "-1": "e"}'),
    ("keys with escapes", r'{"a\nb": 1, "a\"b": 2, "a\\b": 3, "\u00e9": 4, "e\u0301": 5}'),
    ("duplicate key: last wins", '{"a": 1, "a": 2}'),
    ("__proto__ is a member", '{"__proto__": {"polluted": true}, "x": 1}'),
    ("nested", '{"a": {"b": {"c": {"d": [1, [2, [3, {"e": null}]]]}}}, "z": [true, false, null]}'),
    ("integers", '{"n": [0, 1, -1, 65535, 2147483647, -2147483648, 9007199254740991, -9007199254740991]}'),
    ("negative zero", '{"a": -0, "b": -0.0, "c": 0.0, "d": 0e10}'),
    ("floats", '{"n": [0.1, 0.5, 1.5, -2.25, 3.141592653589793, 0.30000000000000004, 100.0, 1.0]}'),
    ("exponents", '{"n": [1e0, 1E2, 1e21, 1e20, 123e19, 1e-6, 1e-7, 1.5e-7, 2.5E+30, -4e-320, 5e-324]}'),
    ("extremes", '{"n": [1.7976931348623157e308, 2.2250738585072014e-308, 4.9e-324, 123456789012345680000]}'),
    # Read by JS as the nearest double: the JS signs (and sends) what it read; see ROUNDED.
    ("big integers as doubles", '{"n": [9007199254740993, 1e22, 100000000000000000000000]}'),
    ("deep: 64 levels", '{"a": ' * 63 + "[0]" + "}" * 63),
    ("too deep: 65 levels", '{"a": ' * 64 + "[0]" + "}" * 64),
    ("lone high surrogate", r'{"x": "\ud800"}'),
    ("lone low surrogate", r'{"x": "a\udc00b"}'),
    ("reversed surrogates", r'{"x": "\ude00\ud83d"}'),
    ("lone surrogate in a key", r'{"\udbff": 1}'),
]

# Integers beyond 2**53 in a text the JS did not write: JSON.parse rounds them, so the JS signs
# the rounded number (docs/ticketing.md: send signedBody()'s text). Its body must still verify.
ROUNDED = {"big integers as doubles"}

# The driver runs inside a bare vm context beside the library: no require, no Buffer, no crypto.
DRIVER = r"""
const fs = require("fs"), vm = require("vm");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const context = vm.createContext({ input: JSON.stringify(input.cases) });
vm.runInContext(input.source, context, { filename: "sgguard-sign.js" });
vm.runInContext(`
  var output = JSON.stringify(JSON.parse(input).map(function (c) {
    try {
      var options = { keyId: c.key_id, secret: c.secret, timestamp: c.timestamp };
      var signed = SgguardSign.signRequest(JSON.parse(c.text), options);
      var unsigned = JSON.parse(JSON.stringify(signed));
      delete unsigned.signature;
      return { canonical: SgguardSign.canonicalJson(unsigned), value: signed.signature.value,
               body: SgguardSign.signedBody(JSON.parse(c.text), options) };
    } catch (e) {
      return { error: e.reason || String(e) };
    }
  }));
`, context);
process.stdout.write(context.output);
"""


def _cases(texts: list[str], rounded: frozenset[str] = frozenset()) -> list[dict]:
    return [
        {"text": text, "key_id": key_id, "secret": secret, "timestamp": TIMESTAMP, "exact": text not in rounded}
        for text in texts
        for key_id, secret in SECRETS.items()
    ]


def _corpus() -> list[dict]:
    return _cases([text for _, text in CORPUS], frozenset(text for name, text in CORPUS if name in ROUNDED))


def _python(case: dict) -> dict:
    request = json.loads(case["text"])
    try:
        signed = sign_request(request, key_id=case["key_id"], secret=case["secret"], timestamp=case["timestamp"])
        canonical = canonical_json({k: v for k, v in signed.items() if k != "signature"})
    except CanonicalJsonError as error:
        return {"error": error.reason}
    return {"canonical": canonical, "value": signed["signature"]["value"]}


def _disagreements(cases: list[dict], source: str) -> list[str]:
    """Every case where the JS and the Python reference differ, described; [] when they agree."""
    results = run_node(DRIVER, {"source": source, "cases": cases})
    found = []
    for case, js in zip(cases, results, strict=True):
        python = _python(case)
        what = f"{case['text'][:60]!r} (key {case['key_id']})"
        if "error" in python or "error" in js:
            if ("error" in python) != ("error" in js):
                found.append(f"{what}: python {python.get('error', 'signs')}, js {js.get('error', 'signs')}")
            continue
        if case["exact"] != (js["canonical"].encode("utf-8", "surrogatepass") == python["canonical"]):
            found.append(
                f"{what}: canonical JSON {'differs' if case['exact'] else 'same'}: js {js['canonical'][:80]!r}"
            )
        elif case["exact"] and js["value"] != python["value"]:
            found.append(f"{what}: HMAC differs")
        else:
            keys = {case["key_id"]: case["secret"]}
            errors = verify_request_signature(json.loads(js["body"]), keys=keys, now=parse_timestamp(TIMESTAMP))
            if errors:
                found.append(f"{what}: the JS body fails the verifier: {errors}")
    return found


def test_the_js_signer_agrees_with_the_python_reference_on_the_corpus():
    assert _disagreements(_corpus(), LIBRARY.read_text(encoding="utf-8")) == []


def _random_doubles(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    found = []
    while len(found) < count:
        value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if value == value and abs(value) != float("inf"):
            found.append(value)
    # around the layout switches of Number::toString (1e21, 1e-7) and short decimals
    found += [m * 10.0**e for m in (1, 1.5, 9.99, 123.456) for e in range(-12, 25)]
    found += [rng.uniform(-1000, 1000) for _ in range(500)] + [float(rng.randint(-(2**60), 2**60)) for _ in range(200)]
    return found


def test_numbers_are_written_as_ecmascript_writes_them():
    """Random doubles over the whole range, written by Python's repr, read back by both sides."""
    doubles = _random_doubles(2000, seed=22)
    texts = [json.dumps({"n": doubles[i : i + 100]}) for i in range(0, len(doubles), 100)]
    cases = [case for case in _cases(texts) if case["key_id"] == "ticketing-1"]
    assert _disagreements(cases, LIBRARY.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "tamper",
    [
        (".sort()", ".sort().reverse()"),  # key order
        ("return String(value);", "return JSON.stringify(value === 0 ? 0 : value) + '';"),  # -0 stays "0"...
        ('"0000".slice', '"000".slice'),  # control escapes one digit short
        ("if (key.length > 64)", "if (key.length > 65)"),  # long secrets
        ("out += hex4(code);", "out += text.charAt(i);"),  # controls unescaped
    ],
)
def test_the_comparison_catches_a_wrong_signer(tamper):
    """The corpus is strong enough: each small mistake in the JS shows as a disagreement (except
    the second, which is a faithful rewrite: the harness must not cry wolf)."""
    source = LIBRARY.read_text(encoding="utf-8")
    old, new = tamper
    assert old in source, f"tamper target {old!r} moved: update the test"
    found = _disagreements(_corpus(), source.replace(old, new, 1))
    if "JSON.stringify(value === 0" in new:
        assert found == []
    else:
        assert found


def test_the_node_module_form_signs_with_the_current_time_and_refuses_bad_options():
    script = r"""
    const sg = require("./javascript/sgguard-sign.js");
    const request = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const out = { body: sg.signedBody(request, { keyId: "ticketing-1", secret: "local-demo-signing-key-0001" }) };
    const bad = { keyId: "ticketing-1", secret: "local-demo-signing-key-0001" };
    for (const [name, options] of [["short", { ...bad, secret: "5char" }], ["key", { ...bad, keyId: "a b" }],
        ["ts", { ...bad, timestamp: "2026-11-28 21:00:00" }],
        ["tz", { ...bad, timestamp: "2026-11-28T21:00:00+01:00" }],
        ["nonbmp-short", { ...bad, secret: "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑" }]]) {
      try { sg.signRequest(request, options); out[name] = "signed"; }
      catch (e) { out[name] = e.path + ": " + e.reason; }
    }
    for (const [name, value] of [["nan", { x: NaN }], ["undef", { x: undefined }], ["date", { x: new Date(0) }],
        ["fn", { x() {} }], ["array", [1]], ["hole", { x: [1, , 3] }]]) {
      try { sg.signRequest(value, bad); out[name] = "signed"; }
      catch (e) { out[name] = e.path + ": " + e.reason; }
    }
    process.stdout.write(JSON.stringify(out));
    """
    request = {"request_id": "CHG-1", "ticket": {"requested_by": "zoë@example.com"}}
    out = run_node(script, request)
    signed = json.loads(out.pop("body"))
    signed_at = parse_timestamp(signed["signature"]["timestamp"])
    assert signed_at is not None
    assert verify_request_signature(signed, keys={"ticketing-1": "local-demo-signing-key-0001"}, now=signed_at) == []
    short = "options.secret: secret must be a string of at least 16 characters (the functions refuse shorter keys)"
    assert out == {
        "short": short,
        "key": "options.keyId: keyId must match ^[A-Za-z0-9._-]{1,64}$",
        "ts": "options.timestamp: timestamp must be RFC 3339 UTC ending with Z (like 2026-11-28T21:00:00Z)",
        "tz": "options.timestamp: timestamp must be RFC 3339 UTC ending with Z (like 2026-11-28T21:00:00Z)",
        "nonbmp-short": short,
        "nan": "$.x: NaN and Infinity have no JSON form",
        "undef": "$.x: type undefined has no JSON form",
        "date": "$.x: type [object Date] has no JSON form",
        "fn": "$.x: type function has no JSON form",
        "array": "$: the request must be a JSON object",
        "hole": "$.x[1]: array hole has no JSON form",
    }


ES2015_SYNTAX = re.compile(r"\b(let|const|class)\b|=>|`|\.\.\.|\bof\b")


@pytest.mark.parametrize("path", ["javascript/sgguard-sign.js", "servicenow/business_rule.js"])
def test_the_servicenow_files_are_plain_es5(path):
    """ServiceNow's legacy JavaScript mode is ES5: no let/const/class, arrows, templates, spread or
    for-of in the files it runs (strings and comments aside)."""
    source = (RECIPES / path).read_text(encoding="utf-8")
    code = re.sub(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', '""', source)
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", code, flags=re.S)
    assert ES2015_SYNTAX.findall(code) == []
