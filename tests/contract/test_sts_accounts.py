"""STS AssumeAgency, IAM KeystoneListProjects and account-bound credentials, through the official SDKs.

An organisation of 4 accounts in 2 regions (``tests.support.organisation``): the home account's AK
reaches its own projects only; another account's project answers IAM's 403; the member agency is
assumed only by the account it trusts, with its external id, within the duration caps.
"""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from tests.support.organisation import (
    GOOD,
    GOOD_EXTERNAL_ID,
    HOME,
    HOME_AK,
    HOME_SK,
    MEMBER_AGENCY,
    NO_AGENCY,
    REGIONS,
    WRONG_EXT,
    project_id,
)
from tests.support.sdk import http_config


def _client(client_cls, url, credentials):
    return (
        client_cls.new_builder()
        .with_credentials(credentials)
        .with_endpoints([url])
        .with_http_config(http_config())
        .build()
    )


def sts(org, ak=HOME_AK, sk=HOME_SK, token=None, project=None):
    from huaweicloudsdksts.v1 import StsClient

    # StsClient takes BasicCredentials; with a project id the SDK makes no IAM lookup of its own
    credentials = BasicCredentials(ak, sk, project or project_id(HOME, REGIONS[0]))
    if token:
        credentials = credentials.with_security_token(token)
    return _client(StsClient, org.home.url, credentials)


def assume(client, domain_id=GOOD, external_id=GOOD_EXTERNAL_ID, duration=None, session="sgguard-test-req1"):
    from huaweicloudsdksts.v1 import AssumeAgencyReqBody, AssumeAgencyRequest

    body = AssumeAgencyReqBody(
        agency_urn=f"iam::{domain_id}:agency:{MEMBER_AGENCY}",
        agency_session_name=session,
        duration_seconds=duration,
        external_id=external_id,
    )
    return client.assume_agency(AssumeAgencyRequest(body=body))


def list_ports(org, region, credentials):
    from huaweicloudsdkvpc.v2 import ListPortsRequest, VpcClient

    return _client(VpcClient, org.clouds[region].url, credentials).list_ports(ListPortsRequest())


def test_assume_agency_returns_credentials_of_the_member_valid_in_each_of_its_regions(org):
    answer = assume(sts(org))
    creds = answer.credentials
    assert creds.access_key_id and creds.secret_access_key and creds.security_token
    assert creds.expiration is not None
    assert answer.assumed_agency.urn == f"sts::{GOOD}:assumed-agency:{MEMBER_AGENCY}/sgguard-test-req1"
    for region in REGIONS:
        member = BasicCredentials(creds.access_key_id, creds.secret_access_key, project_id(GOOD, region))
        ports = list_ports(org, region, member.with_security_token(creds.security_token)).ports
        assert [p.device_id for p in ports] == ["c1000000-0000-4000-8000-000000000001"]


def test_member_credentials_do_not_reach_another_account(org):
    creds = assume(sts(org)).credentials
    other = BasicCredentials(creds.access_key_id, creds.secret_access_key, project_id(HOME, REGIONS[0]))
    with pytest.raises(ClientRequestException) as caught:
        list_ports(org, REGIONS[0], other.with_security_token(creds.security_token))
    assert caught.value.status_code == 403
    assert caught.value.error_code == "IAM.0003"


def test_home_credentials_get_iams_403_in_a_member_project(org):
    with pytest.raises(ClientRequestException) as caught:
        list_ports(org, REGIONS[1], BasicCredentials(HOME_AK, HOME_SK, project_id(GOOD, REGIONS[1])))
    assert (caught.value.status_code, caught.value.error_code) == (403, "IAM.0003")
    home = list_ports(org, REGIONS[1], BasicCredentials(HOME_AK, HOME_SK, project_id(HOME, REGIONS[1])))
    assert len(home.ports) == 1


def test_a_project_of_the_account_in_another_region_is_refused(org):
    with pytest.raises(ClientRequestException) as caught:
        list_ports(org, REGIONS[0], BasicCredentials(HOME_AK, HOME_SK, project_id(HOME, REGIONS[1])))
    assert caught.value.status_code == 403


@pytest.mark.parametrize(
    ("domain_id", "external_id", "status"),
    [
        (NO_AGENCY, None, 404),  # no such agency
        (WRONG_EXT, "ext-wrong-0001", 403),  # external id differs
        (GOOD, None, 403),  # external id missing
        (GOOD, "EXT-GOOD-0001", 403),  # case matters
    ],
)
def test_assume_refused(org, domain_id, external_id, status):
    with pytest.raises(ClientRequestException) as caught:
        assume(sts(org), domain_id, external_id)
    assert caught.value.status_code == status
    assert caught.value.error_code.startswith("STS.")
    assert caught.value.request_id


def test_only_the_trusted_account_may_assume(org):
    member = assume(sts(org)).credentials  # GOOD's session: GOOD is not trusted by its own agency
    client = sts(
        org, member.access_key_id, member.secret_access_key, member.security_token, project_id(GOOD, REGIONS[0])
    )
    with pytest.raises(ClientRequestException) as caught:
        assume(client)
    assert caught.value.status_code == 403


def test_duration_caps(org):
    assert assume(sts(org), duration=3600).credentials.access_key_id
    with pytest.raises(ClientRequestException) as caught:
        assume(sts(org), duration=899)
    assert caught.value.status_code == 400
    with pytest.raises(ClientRequestException):  # the agency's own maximum session: 3600 s
        assume(sts(org), duration=7200)
    # a caller holding temporary credentials (a function's agency): at most 3600 s
    temporary = org.home.backend.issue_temporary_credential(project_id(HOME, REGIONS[0]))
    client = sts(org, temporary.ak, temporary.sk, temporary.security_token)
    assert assume(client, duration=3600).credentials.access_key_id
    org.home.backend.directory.agency(GOOD, MEMBER_AGENCY).max_duration_s = 43200
    with pytest.raises(ClientRequestException) as caught:
        assume(client, duration=3601)
    assert caught.value.status_code == 400
    assert assume(sts(org), duration=7200).credentials.access_key_id  # permanent AK: up to the agency's


@pytest.mark.parametrize("session", ["x", "bad name", "a" * 129, "séssion"])
def test_session_name_checked(org, session):
    with pytest.raises(ClientRequestException) as caught:
        assume(sts(org), session=session)
    assert caught.value.status_code == 400


def test_expired_member_credentials_are_refused(org):
    creds = assume(sts(org), duration=900).credentials
    stored = org.home.backend.credentials[creds.access_key_id]
    stored.expires_at = org.home.backend.clock() - 1
    member = BasicCredentials(creds.access_key_id, creds.secret_access_key, project_id(GOOD, REGIONS[0]))
    with pytest.raises(ClientRequestException) as caught:
        list_ports(org, REGIONS[0], member.with_security_token(creds.security_token))
    assert caught.value.status_code == 401


def test_keystone_list_projects_lists_the_callers_account_in_every_region(org):
    from huaweicloudsdkiam.v3 import IamClient, KeystoneListProjectsRequest

    creds = assume(sts(org)).credentials
    member = GlobalCredentials(creds.access_key_id, creds.secret_access_key, GOOD).with_security_token(
        creds.security_token
    )
    client = _client(IamClient, org.home.url, member)
    projects = client.keystone_list_projects(KeystoneListProjectsRequest()).projects
    assert sorted((p.id, p.name, p.domain_id) for p in projects) == sorted(
        (project_id(GOOD, region), region, GOOD) for region in REGIONS
    )
    named = client.keystone_list_projects(KeystoneListProjectsRequest(name=REGIONS[1])).projects
    assert [p.id for p in named] == [project_id(GOOD, REGIONS[1])]
    with pytest.raises(ClientRequestException) as caught:
        client.keystone_list_projects(KeystoneListProjectsRequest(domain_id=HOME))
    assert (caught.value.status_code, caught.value.error_code) == (403, "IAM.0003")
