"""Organizations ListAccounts through the official ``huaweicloudsdkorganizations`` client.

The organisation of ``tests.support.organisation``: the home account is the management account
(it may list); a member is not (403), unless made a delegated administrator; paging by
``limit`` / ``marker`` with ``page_info.next_marker`` null on the last page; statuses as seeded;
``parent_id`` lists the accounts directly under the root or an OU.
"""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.auth.credentials import GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from tests.support.organisation import (
    CLOSED,
    CLOSING,
    GOOD,
    GOOD_EXTERNAL_ID,
    HOME,
    HOME_AK,
    HOME_SK,
    NO_AGENCY,
    OU_PROD,
    ROOT,
    WRONG_EXT,
)
from tests.support.sdk import http_config

ALL = {HOME, GOOD, NO_AGENCY, WRONG_EXT, CLOSED, CLOSING}


def organizations(org, ak=HOME_AK, sk=HOME_SK, domain_id=HOME, token=None):
    from huaweicloudsdkorganizations.v1 import OrganizationsClient

    credentials = GlobalCredentials(ak, sk, domain_id)  # with a domain id the SDK makes no IAM lookup
    if token:
        credentials = credentials.with_security_token(token)
    return (
        OrganizationsClient.new_builder()
        .with_credentials(credentials)
        .with_endpoints([org.home.url])
        .with_http_config(http_config())
        .build()
    )


def list_accounts(client, **query):
    from huaweicloudsdkorganizations.v1 import ListAccountsRequest

    return client.list_accounts(ListAccountsRequest(**query))


def test_management_account_lists_every_account_with_its_status(org):
    answer = list_accounts(organizations(org))
    statuses = {a.id: a.status for a in answer.accounts}
    assert set(statuses) == ALL
    assert statuses[CLOSED] == "suspended" and statuses[CLOSING] == "pending_closure" and statuses[GOOD] == "active"
    assert answer.page_info.next_marker is None and answer.page_info.current_count == len(ALL)
    good = next(a for a in answer.accounts if a.id == GOOD)
    assert good.name == "prod" and good.urn.endswith(f":account:o-org0000000001/{GOOD}")
    assert good.joined_at is not None


def test_pages_by_limit_and_marker_until_next_marker_is_null(org):
    client, seen, marker, pages = organizations(org), [], None, 0
    while True:
        answer = list_accounts(client, limit=2, marker=marker)
        pages += 1
        assert answer.page_info.current_count == len(answer.accounts) <= 2
        seen.extend(a.id for a in answer.accounts)
        marker = answer.page_info.next_marker
        if marker is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) and set(seen) == ALL


def test_parent_id_lists_the_accounts_directly_under_it(org):
    client = organizations(org)
    assert {a.id for a in list_accounts(client, parent_id=OU_PROD).accounts} == {GOOD, WRONG_EXT, CLOSING}
    assert {a.id for a in list_accounts(client, parent_id=ROOT).accounts} == {HOME, NO_AGENCY, CLOSED}
    with pytest.raises(ClientRequestException) as missing:
        list_accounts(client, parent_id="ou-nosuchou1")
    assert missing.value.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": 201, "with_register_contact_info": True},
        {"parent_id": "OU-PROD00001"},  # case variant: not an OU id
        {"parent_id": "ou-prod00001\n"},
        {"marker": "not-a-marker"},
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(org, query):
    with pytest.raises(ClientRequestException) as refused:
        list_accounts(organizations(org), **query)
    assert refused.value.status_code == 400
    assert refused.value.error_code == "Organizations.1001"
    assert next(iter(query)) in refused.value.error_msg


def test_a_member_account_that_is_not_a_delegated_administrator_is_refused(org):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdksts.v1 import AssumeAgencyReqBody, AssumeAgencyRequest, StsClient

    from tests.support.organisation import MEMBER_AGENCY, REGIONS, project_id

    sts = (
        StsClient.new_builder()
        .with_credentials(BasicCredentials(HOME_AK, HOME_SK, project_id(HOME, REGIONS[0])))
        .with_endpoints([org.home.url])
        .with_http_config(http_config())
        .build()
    )
    body = AssumeAgencyReqBody(
        agency_urn=f"iam::{GOOD}:agency:{MEMBER_AGENCY}",
        agency_session_name="sgguard-test",
        external_id=GOOD_EXTERNAL_ID,
    )
    creds = sts.assume_agency(AssumeAgencyRequest(body=body)).credentials
    member = organizations(org, creds.access_key_id, creds.secret_access_key, GOOD, creds.security_token)
    with pytest.raises(ClientRequestException) as refused:
        list_accounts(member)
    assert refused.value.status_code == 403 and refused.value.error_code == "Organizations.1003"
    org.home.backend.directory.organization.delegated_administrators.add(GOOD)
    assert {a.id for a in list_accounts(member).accounts} == ALL


def test_an_unsigned_or_unknown_caller_gets_no_listing(org):
    with pytest.raises(ClientRequestException) as refused:
        list_accounts(organizations(org, ak="UNKNOWNAK000000000001", sk="unknown-secret-key-0000000001"))
    assert refused.value.status_code in (401, 403)
