#!/usr/bin/env sh
# Sign a change request with the shell tools a ticketing system has (jq + openssl).
#   KEY_ID=ticketing-1 SECRET='...' scripts/sign_request.sh request.json > signed.json
# value = hex HMAC-SHA256(SECRET, timestamp + "." + canonical JSON of the request without "signature");
# canonical JSON = keys sorted, no insignificant whitespace, UTF-8 (jq -cS), as in shared/signing.py.
set -eu
: "${KEY_ID:?set KEY_ID}" "${SECRET:?set SECRET}"
ts=${TIMESTAMP:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
canonical=$(jq -cS 'del(.signature)' "$1")
value=$(printf '%s.%s' "$ts" "$canonical" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= //')
jq --arg k "$KEY_ID" --arg t "$ts" --arg v "$value" '.signature = {key_id: $k, timestamp: $t, value: $v}' "$1"
