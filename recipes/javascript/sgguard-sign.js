/*
 * sgguard-sign.js: sign an sgguard change request, exactly as the functions verify it
 * (shared/signing.py, shared/canonical_json.py; docs/ticketing.md).
 *
 *   value = hex(HMAC-SHA256(secret, timestamp + "." + canonicalJson(request without "signature")))
 *
 * Canonical JSON is RFC 8785 (JCS): members sorted by UTF-16 code units, no whitespace, strings
 * escaped minimally (\" \\ \b \f \n \r \t, other controls as \u00xx), numbers as ECMAScript
 * writes them (String(n): 1e+21, 1.5e-7, -0 -> 0). A lone surrogate, NaN/Infinity, undefined, a
 * function or a non-plain object (Date, Map...) is refused (it has no JSON form the verifier
 * would read back the same), as are more than 64 levels of nesting.
 *
 * Plain ES5 with no platform API (SHA-256 is implemented below), so the same file runs:
 *   - in Node:        var sg = require("./sgguard-sign.js");
 *   - in ServiceNow:  as a Script Include named SgguardSign (recipes/servicenow/business_rule.js);
 *   - in any JS engine that can load a script.
 * Send the body signedBody() returns (or JSON.stringify of signRequest's object): numbers are
 * then written exactly as they were signed.
 */
var SgguardSign = (function () {
  "use strict";

  var MAX_DEPTH = 64; // shared/canonical_json.py: "nesting too deep"
  var MIN_SECRET_CHARS = 16; // shared/config.py: REQUEST_SIGNING_KEYS secrets of at least 16 characters
  var KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
  var TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

  function SigningError(message, path) {
    this.name = "SigningError";
    this.message = path ? message + " at " + path : message;
    this.reason = message;
    this.path = path || "$";
  }
  SigningError.prototype = Object.create(Error.prototype);
  SigningError.prototype.constructor = SigningError;

  function childPath(path, key) {
    if (typeof key === "number") {
      return path + "[" + key + "]";
    }
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? path + "." + key : path + "[" + JSON.stringify(key) + "]";
  }

  // ------------------------------------------------------------------ canonical JSON (RFC 8785)

  function hex4(code) {
    var text = code.toString(16);
    return "\\u" + "0000".slice(text.length) + text;
  }

  var SHORT_ESCAPES = { 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\" };

  function quote(text, path) {
    var out = '"';
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff) {
        var next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
        if (next < 0xdc00 || next > 0xdfff) {
          throw new SigningError("string contains an unpaired UTF-16 surrogate", path);
        }
        out += text.charAt(i) + text.charAt(i + 1);
        i++;
      } else if (code >= 0xdc00 && code <= 0xdfff) {
        throw new SigningError("string contains an unpaired UTF-16 surrogate", path);
      } else if (SHORT_ESCAPES.hasOwnProperty(code)) {
        out += SHORT_ESCAPES[code];
      } else if (code < 0x20) {
        out += hex4(code);
      } else {
        out += text.charAt(i);
      }
    }
    return out + '"';
  }

  function isPlainObject(value) {
    if (Object.prototype.toString.call(value) !== "[object Object]") {
      return false;
    }
    var proto = Object.getPrototypeOf(value);
    return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
  }

  function write(value, path, depth) {
    if (depth > MAX_DEPTH) {
      throw new SigningError("nesting too deep", path);
    }
    if (value === null) {
      return "null";
    }
    if (value === true) {
      return "true";
    }
    if (value === false) {
      return "false";
    }
    var kind = typeof value;
    if (kind === "number") {
      if (!isFinite(value)) {
        throw new SigningError("NaN and Infinity have no JSON form", path);
      }
      return String(value); // ECMAScript Number::toString is RFC 8785's number form (-0 -> "0")
    }
    if (kind === "string") {
      return quote(value, path);
    }
    if (Object.prototype.toString.call(value) === "[object Array]") {
      var items = [];
      for (var i = 0; i < value.length; i++) {
        if (!Object.prototype.hasOwnProperty.call(value, i)) {
          throw new SigningError("array hole has no JSON form", childPath(path, i));
        }
        items.push(write(value[i], childPath(path, i), depth + 1));
      }
      return "[" + items.join(",") + "]";
    }
    if (kind === "object" && isPlainObject(value)) {
      var keys = Object.keys(value).sort(); // default sort: by UTF-16 code units, as JCS wants
      var members = [];
      for (var k = 0; k < keys.length; k++) {
        var where = childPath(path, keys[k]);
        members.push(quote(keys[k], path) + ":" + write(value[keys[k]], where, depth + 1));
      }
      return "{" + members.join(",") + "}";
    }
    throw new SigningError("type " + (kind === "object" ? Object.prototype.toString.call(value) : kind) +
      " has no JSON form", path);
  }

  /** RFC 8785 canonical JSON text of a value (a JS string; hash its UTF-8 bytes). */
  function canonicalJson(value) {
    return write(value, "$", 0);
  }

  // ------------------------------------------------------------------ UTF-8, SHA-256, HMAC

  function utf8Bytes(text) {
    var bytes = [];
    for (var i = 0; i < text.length; i++) {
      var code = text.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
        var low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          i++;
        }
      }
      if (code >= 0xd800 && code <= 0xdfff) {
        throw new SigningError("string contains an unpaired UTF-16 surrogate");
      }
      if (code < 0x80) {
        bytes.push(code);
      } else if (code < 0x800) {
        bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
      } else if (code < 0x10000) {
        bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
      } else {
        bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
      }
    }
    return bytes;
  }

  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];

  function rotr(x, n) {
    return (x >>> n) | (x << (32 - n));
  }

  /** SHA-256 of an array of bytes, as an array of 32 bytes (FIPS 180-4). */
  function sha256(bytes) {
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var data = bytes.slice();
    var bitLength = bytes.length * 8;
    data.push(0x80);
    while (data.length % 64 !== 56) {
      data.push(0);
    }
    var high = Math.floor(bitLength / 0x100000000);
    data.push((high >>> 24) & 255, (high >>> 16) & 255, (high >>> 8) & 255, high & 255);
    data.push((bitLength >>> 24) & 255, (bitLength >>> 16) & 255, (bitLength >>> 8) & 255, bitLength & 255);
    var w = new Array(64);
    for (var block = 0; block < data.length; block += 64) {
      for (var t = 0; t < 16; t++) {
        var j = block + t * 4;
        w[t] = ((data[j] << 24) | (data[j + 1] << 16) | (data[j + 2] << 8) | data[j + 3]) | 0;
      }
      for (t = 16; t < 64; t++) {
        var s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
        var s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
        w[t] = (w[t - 16] + s0 + w[t - 7] + s1) | 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (t = 0; t < 64; t++) {
        var S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        var ch = (e & f) ^ (~e & g);
        var temp1 = (hh + S1 + ch + K[t] + w[t]) | 0;
        var S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        var maj = (a & b) ^ (a & c) ^ (b & c);
        var temp2 = (S0 + maj) | 0;
        hh = g;
        g = f;
        f = e;
        e = (d + temp1) | 0;
        d = c;
        c = b;
        b = a;
        a = (temp1 + temp2) | 0;
      }
      h = [(h[0] + a) | 0, (h[1] + b) | 0, (h[2] + c) | 0, (h[3] + d) | 0,
        (h[4] + e) | 0, (h[5] + f) | 0, (h[6] + g) | 0, (h[7] + hh) | 0];
    }
    var out = [];
    for (var n = 0; n < 8; n++) {
      out.push((h[n] >>> 24) & 255, (h[n] >>> 16) & 255, (h[n] >>> 8) & 255, h[n] & 255);
    }
    return out;
  }

  function toHex(bytes) {
    var text = "";
    for (var i = 0; i < bytes.length; i++) {
      text += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return text;
  }

  /** Lowercase hex HMAC-SHA256 (RFC 2104) of two strings, both taken as UTF-8. */
  function hmacSha256Hex(secret, message) {
    var key = utf8Bytes(secret);
    if (key.length > 64) {
      key = sha256(key);
    }
    var inner = [], outer = [];
    for (var i = 0; i < 64; i++) {
      var byte = i < key.length ? key[i] : 0;
      inner.push(byte ^ 0x36);
      outer.push(byte ^ 0x5c);
    }
    return toHex(sha256(outer.concat(sha256(inner.concat(utf8Bytes(message))))));
  }

  // ------------------------------------------------------------------ signing

  function codePoints(text) {
    return text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, "_").length;
  }

  function pad2(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /** RFC 3339 UTC, seconds precision: "2026-11-28T21:00:00Z" (now, or the Date given). */
  function timestamp(date) {
    var d = date || new Date();
    return d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) + "T" +
      pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + ":" + pad2(d.getUTCSeconds()) + "Z";
  }

  function checkOptions(options) {
    if (!options || typeof options.keyId !== "string" || !KEY_ID.test(options.keyId)) {
      throw new SigningError("keyId must match " + KEY_ID.source, "options.keyId");
    }
    if (typeof options.secret !== "string" || codePoints(options.secret) < MIN_SECRET_CHARS) {
      // never echo the secret, not even its length
      throw new SigningError("secret must be a string of at least " + MIN_SECRET_CHARS +
        " characters (the functions refuse shorter keys)", "options.secret");
    }
    var when = options.timestamp === undefined ? timestamp() : options.timestamp;
    if (typeof when !== "string" || !TIMESTAMP.test(when)) {
      throw new SigningError("timestamp must be RFC 3339 UTC ending with Z (like 2026-11-28T21:00:00Z)",
        "options.timestamp");
    }
    return when;
  }

  /**
   * A copy of `request` carrying `signature: {key_id, timestamp, value}` (any previous signature
   * replaced). options: {keyId, secret, timestamp?: RFC 3339 UTC, default now}.
   */
  function signRequest(request, options) {
    if (!isPlainObject(request)) {
      throw new SigningError("the request must be a JSON object");
    }
    var when = checkOptions(options);
    var unsigned = {};
    var keys = Object.keys(request);
    for (var i = 0; i < keys.length; i++) {
      if (keys[i] !== "signature") {
        // defineProperty, not assignment: a member named "__proto__" stays a member
        Object.defineProperty(unsigned, keys[i], {
          value: request[keys[i]], enumerable: true, writable: true, configurable: true
        });
      }
    }
    var value = hmacSha256Hex(options.secret, when + "." + canonicalJson(unsigned));
    unsigned.signature = { key_id: options.keyId, timestamp: when, value: value };
    return unsigned;
  }

  /** The JSON text to send: signRequest's object, serialised. */
  function signedBody(request, options) {
    return JSON.stringify(signRequest(request, options));
  }

  return {
    SigningError: SigningError,
    canonicalJson: canonicalJson,
    hmacSha256Hex: hmacSha256Hex,
    sha256Hex: function (text) { return toHex(sha256(utf8Bytes(text))); },
    signRequest: signRequest,
    signedBody: signedBody,
    timestamp: timestamp
  };
})();

if (typeof module !== "undefined" && module.exports) {
  module.exports = SgguardSign;
}
