"""sg_drift's reading of a trace: who made the change (is it sgguard's own agency?) and which port
it names, in every documented form — and the spellings an attacker would try."""

from __future__ import annotations

import json

import pytest

from shared.flows.cts import caused_by_agency, read_drift_trace

AGENCY = "sgguard-functions"
PORT = "d0000000-0000-4000-8000-000000000001"
OTHER = "d0000000-0000-4000-8000-000000000002"
DOMAIN = {"name": "acme", "id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9"}

RECOGNISED = {
    "sdk principal_urn": {"type": "AssumedAgency", "principal_urn": f"sts::0a1b:assumed-agency:{AGENCY}/sess-1"},
    "urn without type": {"principal_urn": f"sts::0a1b:assumed-agency:{AGENCY}/sess-1", "name": "x"},
    "AssumedAgency name/session": {"type": "AssumedAgency", "name": f"{AGENCY}/sess-1"},
    "AssumedAgency bare name": {"type": "AssumedAgency", "name": AGENCY},
    "older <domain>/<agency>": {"name": f"acme/{AGENCY}", "domain": DOMAIN},
    "older <agency>/<session>": {"name": f"{AGENCY}/abc123", "domain": DOMAIN},
}

NOT_RECOGNISED = {
    "a user named like the agency": {"type": "User", "name": AGENCY},
    "a user with the agency as a path": {"type": "User", "name": f"acme/{AGENCY}"},
    "root": {"type": "Root", "name": f"acme/{AGENCY}"},
    "a user carrying an agency urn": {"type": "User", "principal_urn": f"sts::0a1b:assumed-agency:{AGENCY}/s"},
    "bare {domain, name, id}": {"domain": DOMAIN, "name": AGENCY, "id": "0a1b"},
    "another agency's urn": {"type": "AssumedAgency", "principal_urn": "sts::0a1b:assumed-agency:other/s"},
    "our name after another urn": {"principal_urn": "sts::0a1b:assumed-agency:other/s", "name": f"acme/{AGENCY}"},
    "an iam user urn": {"principal_urn": f"iam::0a1b:user:{AGENCY}", "name": f"acme/{AGENCY}"},
    "a urn not from sts": {"principal_urn": f"iam::x:assumed-agency:{AGENCY}/s"},
    "a prefix of the agency": {"type": "AssumedAgency", "name": "sgguard-functions-evil/s"},
    "the agency as a prefix": {"type": "AssumedAgency", "name": "sgguard/s"},
    "case changed": {"type": "AssumedAgency", "name": "SGGUARD-FUNCTIONS/s"},
    "three parts": {"name": f"acme/{AGENCY}/x"},
    "an unknown type": {"type": "FederatedUser", "name": f"acme/{AGENCY}"},
    "a type we never heard of": {"type": "Robot", "name": f"{AGENCY}/s"},
    "not an object": "sgguard-functions",
    "a name that is not text": {"name": ["acme", AGENCY]},
}


@pytest.mark.parametrize("form", sorted(RECOGNISED))
def test_every_documented_form_of_the_agency_is_recognised(form):
    assert caused_by_agency(RECOGNISED[form], AGENCY) is True


@pytest.mark.parametrize("form", sorted(NOT_RECOGNISED))
def test_a_person_or_an_undocumented_form_is_never_taken_for_sgguard(form):
    assert caused_by_agency(NOT_RECOGNISED[form], AGENCY) is False


def test_the_functions_own_temporary_key_is_recognised_whatever_the_user_form():
    user = {"domain": DOMAIN, "name": "whoever", "id": "1", "access_key_id": "TMPKEY123"}
    assert caused_by_agency(user, None, own_access_key="TMPKEY123") is True
    assert caused_by_agency(user, AGENCY, own_access_key="OTHERKEY") is False
    assert caused_by_agency({**user, "access_key_id": None}, AGENCY, own_access_key=None) is False


def test_without_an_agency_setting_only_the_key_counts():
    assert caused_by_agency(RECOGNISED["sdk principal_urn"], None) is False


def _port_trace(**fields):
    return {"trace_id": "t", "trace_name": "addSecurityGroups", "user": {"type": "User", "name": "bob"}, **fields}


@pytest.mark.parametrize(
    "fields",
    [
        {"resource_id": PORT},
        {"resource_url": f"/v3/0a1b/ports/{PORT}/insert-security-groups"},
        {"response": {"port": {"id": PORT}}},
        {"response": json.dumps({"port": {"id": PORT}})},
        {"request": {"port": {"id": PORT}}},
        {"request": json.dumps({"port_id": PORT})},
    ],
    ids=["resource_id", "resource_url", "response", "response-string", "request", "request-string"],
)
def test_the_port_is_read_from_wherever_the_trace_carries_it(fields):
    reading = read_drift_trace(_port_trace(**fields), agency=AGENCY)
    assert reading.skip_reason is None and reading.port_id == PORT


def test_resource_id_wins_and_an_invented_field_is_not_read():
    reading = read_drift_trace(_port_trace(resource_id=PORT, response={"port": {"id": OTHER}}), agency=AGENCY)
    assert reading.port_id == PORT
    invented = read_drift_trace(_port_trace(request_uri=f"/v3/x/ports/{PORT}"), agency=AGENCY)
    assert invented.port_id is None and invented.skip_reason == "the trace names no port"


def test_a_port_id_that_is_not_a_uuid_is_never_used():
    reading = read_drift_trace(_port_trace(resource_id="../servers", resource_url="/v3/x/ports/../../etc"))
    assert reading.port_id is None and reading.skip_reason
