"""Secrets never reach the function's output: not the agency's SK or token, not the signing keys,
not even when calls fail and the SDK logs errors."""

from __future__ import annotations

import io
import json
import logging
from contextlib import redirect_stderr, redirect_stdout

from tests.support.functions import SIGNING_KEYS, load_handler, make_context
from tests.support.requests import change_request, kafka


def test_credentials_and_keys_stay_out_of_stdout_stderr_and_results(cloud):
    cloud.add_fault(kind="error503", method="PUT", path="/v3/*/ports/*/insert-security-groups")
    cloud.add_fault(kind="reset", method="GET", path="/v1/*/cloudservers/*", count=1)
    context = make_context(cloud, MAX_ATTEMPTS="2")
    handler = load_handler("change_request")
    out, err = io.StringIO(), io.StringIO()
    capture = logging.StreamHandler(err)
    logging.getLogger().addHandler(capture)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            response = handler(kafka(change_request("add", [{"name": "web"}]), change_request("bogus"), "{"), context)
    finally:
        logging.getLogger().removeHandler(capture)
    text = out.getvalue() + err.getvalue() + json.dumps(response) + repr(context)
    assert [r["data"]["outcome"] for r in response["results"]][0] == "failed"
    secrets = [context.getSecuritySecretKey(), context.getSecurityToken(), *SIGNING_KEYS.values()]
    for secret in secrets:
        assert secret and secret not in text
