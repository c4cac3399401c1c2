#!/usr/bin/env sh
# Sign a change request with the shell tools a ticketing system has (jq + openssl + od).
#   KEY_ID=ticketing-1 SECRET_FILE=/run/secrets/sgguard scripts/sign_request.sh request.json > signed.json
#   KEY_ID=ticketing-1 scripts/sign_request.sh request.json < secret.txt > signed.json
# value = hex HMAC-SHA256(secret, timestamp + "." + canonical JSON of the request without "signature");
# canonical JSON = keys sorted, no insignificant whitespace, UTF-8 (jq -cS), as in shared/signing.py.
# The secret is read from SECRET_FILE or standard input, never from a command line: `openssl -hmac KEY`
# would show it in the process list, so HMAC (RFC 2104) is built here from two plain SHA-256 digests.
set -eu
: "${KEY_ID:?set KEY_ID}" "${1:?usage: KEY_ID=... [SECRET_FILE=...] sign_request.sh request.json}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
umask 077
if [ -n "${SECRET_FILE:-}" ]; then tr -d '\r\n' < "$SECRET_FILE" > "$work/key"; else tr -d '\r\n' > "$work/key"; fi
[ -s "$work/key" ] || { echo "sign_request.sh: empty secret (SECRET_FILE or standard input)" >&2; exit 2; }
if [ "$(wc -c < "$work/key")" -gt 64 ]; then openssl dgst -sha256 -binary < "$work/key" > "$work/key.h" && mv "$work/key.h" "$work/key"; fi
key_hex=$(od -An -v -tx1 < "$work/key" | tr -d ' \n')

# K xor pad, as raw bytes: K padded with zeros to the 64-byte block.
pad() {
  hex=$key_hex i=0
  while [ $i -lt 64 ]; do
    byte=${hex%"${hex#??}"}; hex=${hex#??}
    [ -n "$byte" ] || byte=00
    printf "\\$(printf %03o $(( 0x$byte ^ $1 )))"
    i=$((i + 1))
  done
}

ts=${TIMESTAMP:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
jq -cS 'del(.signature)' "$1" | tr -d '\n' > "$work/canonical"
{ pad 54; printf '%s.' "$ts"; cat "$work/canonical"; } | openssl dgst -sha256 -binary > "$work/inner"
value=$({ pad 92; cat "$work/inner"; } | openssl dgst -sha256 -hex | sed 's/^.*= //')
jq --arg k "$KEY_ID" --arg t "$ts" --arg v "$value" '.signature = {key_id: $k, timestamp: $t, value: $v}' "$1"
