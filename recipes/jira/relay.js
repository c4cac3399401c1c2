#!/usr/bin/env node
/*
 * sgguard signing relay: for senders that cannot compute an HMAC (Jira Service Management's
 * Automation "Send web request" has no HMAC or SHA-256 smart value; docs/ticketing.md).
 *
 * It accepts POST /change-requests with "Authorization: Bearer <relay token>" and a change request
 * (JSON object, no signature, at most 64 KiB), signs it with sgguard-sign.js (the time is the
 * relay's), forwards it to sgguard's API and answers with sgguard's status and body.
 *
 * Settings (environment; the two secrets as files, never on a command line):
 *   SGGUARD_URL                 sgguard's API: https://GROUP.apic.REGION.huaweicloudapis.com/sgguard/change-requests
 *   SGGUARD_KEY_ID              the key id sgguard knows the relay by (REQUEST_SIGNING_KEYS)
 *   SGGUARD_SECRET_FILE         file holding that key's secret (16+ characters)
 *   RELAY_TOKEN_FILE            file holding the bearer token Jira sends (24+ characters)
 *   RELAY_PORT (8080), RELAY_HOST (127.0.0.1: put it behind your TLS proxy; 0.0.0.0 to listen on all)
 *   RELAY_TICKET_SYSTEM (jira)  the only ticket.system the relay signs for
 *
 * Whoever holds the relay token can have any request signed: keep it in Jira's rule only, let the
 * proxy admit only Atlassian's published egress ranges, and let sgguard's guard rails (ALLOWED_GROUPS,
 * protected and risky groups, approvals) carry the rest. Node 18+, no dependencies.
 */
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const http = require("http");
const https = require("https");
const path = require("path");
const SgguardSign = require(path.join(__dirname, "..", "javascript", "sgguard-sign.js"));

const MAX_BODY = 64 * 1024;
const MIN_TOKEN = 24;

function setting(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === "") {
    if (fallback === undefined) {
      throw new Error(`${name} is not set`);
    }
    return fallback;
  }
  return value;
}

function secretFile(name) {
  return fs.readFileSync(setting(name), "utf8").replace(/\r?\n$/, "");
}

function loadConfig() {
  const url = new URL(setting("SGGUARD_URL"));
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw new Error("SGGUARD_URL must be https:// (http only to a loopback address)");
  }
  const token = secretFile("RELAY_TOKEN_FILE");
  if (token.length < MIN_TOKEN) {
    throw new Error(`the relay token must have at least ${MIN_TOKEN} characters`);
  }
  const config = {
    url,
    keyId: setting("SGGUARD_KEY_ID"),
    secret: secretFile("SGGUARD_SECRET_FILE"),
    tokenDigest: crypto.createHash("sha256").update(token).digest(),
    ticketSystem: setting("RELAY_TICKET_SYSTEM", "jira"),
    port: Number(setting("RELAY_PORT", "8080")),
    host: setting("RELAY_HOST", "127.0.0.1"),
  };
  // Fail at start, not on the first ticket: the options are checked by a signature of nothing.
  SgguardSign.signRequest({}, { keyId: config.keyId, secret: config.secret });
  return config;
}

function authorized(header, config) {
  const match = /^Bearer (\S+)$/.exec(header || "");
  // Digests have equal lengths: timingSafeEqual never throws and leaks no length.
  const digest = crypto.createHash("sha256").update(match ? match[1] : "").digest();
  return Boolean(match) && crypto.timingSafeEqual(digest, config.tokenDigest);
}

function answer(response, status, body) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  response.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  response.end(text);
}

function refuse(response, status, code, message, jsonPath) {
  answer(response, status, { error: { code, message, path: jsonPath || "$" } });
}

function forward(config, body, done) {
  const client = config.url.protocol === "https:" ? https : http;
  const request = client.request(
    config.url,
    { method: "POST", headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } },
    (upstream) => {
      const chunks = [];
      upstream.on("data", (chunk) => chunks.push(chunk));
      upstream.on("end", () => done(null, upstream.statusCode, Buffer.concat(chunks).toString("utf8")));
    },
  );
  request.setTimeout(60000, () => request.destroy(new Error("sgguard did not answer within 60 s")));
  request.on("error", (error) => done(error));
  request.end(body);
}

function handle(config, request, response) {
  if (request.method !== "POST" || request.url !== "/change-requests") {
    return refuse(response, 404, "NOT_FOUND", "POST /change-requests only");
  }
  if (!authorized(request.headers.authorization, config)) {
    return refuse(response, 401, "UNAUTHORIZED", "a valid Authorization: Bearer token is required");
  }
  const chunks = [];
  let size = 0;
  request.on("data", (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY) {
      chunks.push(chunk);
    }
  });
  request.on("end", () => {
    if (size > MAX_BODY) {
      return refuse(response, 413, "TOO_LARGE", `the body is over ${MAX_BODY} bytes`);
    }
    let change;
    try {
      change = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (error) {
      return refuse(response, 400, "INVALID_JSON", "the body is not JSON");
    }
    if (!change || typeof change !== "object" || Array.isArray(change)) {
      return refuse(response, 400, "INVALID_JSON", "the body must be a JSON object");
    }
    if (Object.prototype.hasOwnProperty.call(change, "signature")) {
      return refuse(response, 400, "SIGNATURE_NOT_ALLOWED", "the relay signs: send no signature", "$.signature");
    }
    const system = change.ticket && change.ticket.system;
    if (system !== config.ticketSystem) {
      return refuse(response, 403, "TICKET_SYSTEM", `the relay signs ${config.ticketSystem} tickets only`, "$.ticket.system");
    }
    let body;
    try {
      body = SgguardSign.signedBody(change, { keyId: config.keyId, secret: config.secret });
    } catch (error) {
      return refuse(response, 400, "UNSIGNABLE", error.reason || "cannot be signed", error.path);
    }
    forward(config, body, (error, status, text) => {
      if (error) {
        return refuse(response, 502, "UPSTREAM", `sgguard unreachable: ${error.message}`);
      }
      answer(response, status, text || "{}");
    });
  });
}

function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    process.stderr.write(`relay: ${error.message}\n`);  // messages never carry a secret
    process.exit(2);
  }
  const server = http.createServer((request, response) => handle(config, request, response));
  server.listen(config.port, config.host, () => {
    process.stdout.write(`relay listening on ${config.host}:${server.address().port}\n`);
  });
}

if (require.main === module) {
  main();
}

module.exports = { authorized, loadConfig, handle };
