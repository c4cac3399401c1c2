"""SDK clients, built from the function's agency credentials, once per credentials.

Only the client a code path needs is imported and built (cold start): a request that only reads
and replaces never imports the VPC v3 package. Clients are cached per credentials and endpoint,
since FunctionGraph rotates the agency's temporary credentials.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from shared.config import ConfigError, Settings

__all__ = ["AgencyCredentials", "credentials_from_context", "ClientFactory", "client_factory"]


@dataclass(frozen=True)
class AgencyCredentials:
    ak: str
    sk: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
    project_id: str = ""


def credentials_from_context(context: Any, settings: Settings) -> AgencyCredentials:
    """The temporary credentials of the function's agency (``xrole``); nothing else is used."""

    def call(name: str) -> str | None:
        method = getattr(context, name, None)
        return method() if callable(method) else None

    ak, sk = call("getSecurityAccessKey"), call("getSecuritySecretKey")
    if not ak or not sk:
        raise ConfigError("xrole", "no agency credentials in the context: give the function an agency")
    project_id = settings.project_id  # user data PROJECT_ID, else RUNTIME_PROJECT_ID, else getProjectID()
    if not project_id:
        raise ConfigError(
            "PROJECT_ID",
            "no project id: set user data PROJECT_ID (deploy writes it) or run where RUNTIME_PROJECT_ID is set",
        )
    return AgencyCredentials(ak, sk, call("getSecurityToken") or None, project_id)


class ClientFactory:
    """Builds each SDK client on first use for one set of credentials."""

    def __init__(self, credentials: AgencyCredentials, settings: Settings, pool_size: int = 16):
        self.credentials = credentials
        self.settings = settings
        self.pool_size = pool_size
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _sdk_credentials(self) -> Any:
        from huaweicloudsdkcore.auth.credentials import BasicCredentials

        credentials = BasicCredentials(self.credentials.ak, self.credentials.sk, self.credentials.project_id)
        if self.credentials.security_token:
            credentials = credentials.with_security_token(self.credentials.security_token)
        return credentials

    def _http_config(self) -> Any:
        from huaweicloudsdkcore.http.http_config import HttpConfig

        config = HttpConfig.get_default_config()
        config.timeout = (self.settings.connect_timeout_s, self.settings.read_timeout_s)
        config.retry_times = 0  # never let the SDK re-send a PUT; see shared.cloud.retry
        config.pool_connections = self.pool_size
        config.pool_maxsize = self.pool_size
        return config

    def client(self, name: str, client_cls: Any, endpoint: str, credentials: Any = None) -> Any:
        """The SDK client ``client_cls`` at ``endpoint``, built once (every SDK client of the
        functions, the result sinks' included, is built here)."""
        from shared.cloud.transport import prepare_http_config, proxy_configured, quiet_http_handler, tune_client

        name = f"{name}:{endpoint}"
        with self._lock:
            client = self._clients.get(name)
            if client is None:
                use_env = proxy_configured()  # read once: the session then stops re-reading it per call
                client = (
                    client_cls.new_builder()
                    .with_credentials(credentials or self._sdk_credentials())
                    .with_endpoints([endpoint])
                    .with_http_config(prepare_http_config(self._http_config(), use_env=use_env))
                    .with_http_handler(quiet_http_handler())
                    .build()
                )
                tune_client(client, use_env=use_env)
                self._clients[name] = client
            return client

    def vpc_v2(self) -> Any:
        from huaweicloudsdkvpc.v2 import VpcClient

        return self.client("vpc_v2", VpcClient, self.settings.vpc_endpoint)

    def vpc_v3(self) -> Any:
        from huaweicloudsdkvpc.v3 import VpcClient

        return self.client("vpc_v3", VpcClient, self.settings.vpc_endpoint)

    def ecs(self) -> Any:
        from huaweicloudsdkecs.v2 import EcsClient

        return self.client("ecs", EcsClient, self.settings.ecs_endpoint)

    def sts(self) -> Any:
        """STS (AssumeAgency into member accounts): ``STS_ENDPOINT`` / ``HUAWEICLOUD_SDK_STS_ENDPOINT``,
        else ``StsRegion.value_of(REGION)``, which honours ``HUAWEICLOUD_SDK_REGION_STS_<REGION>``."""
        from huaweicloudsdksts.v1 import StsClient

        endpoint = self.settings.sts_endpoint
        if not endpoint:
            from huaweicloudsdksts.v1.region.sts_region import StsRegion

            endpoint = StsRegion.value_of(self.settings.region).endpoints[0]
        return self.client("sts", StsClient, endpoint)

    def iam(self, domain_id: str) -> Any:
        """IAM of this factory's region (``KeystoneListProjects``; ``IamRegion.value_of`` honours
        ``HUAWEICLOUD_SDK_REGION_IAM_<REGION>``), with account-scoped credentials: the project a
        request names is what the listing checks, so it is not sent as the scope."""
        from huaweicloudsdkcore.auth.credentials import GlobalCredentials
        from huaweicloudsdkiam.v3 import IamClient
        from huaweicloudsdkiam.v3.region.iam_region import IamRegion

        credentials = GlobalCredentials(self.credentials.ak, self.credentials.sk, domain_id)
        if self.credentials.security_token:
            credentials = credentials.with_security_token(self.credentials.security_token)
        endpoint = IamRegion.value_of(self.settings.region).endpoints[0]
        return self.client("iam", IamClient, endpoint, credentials)

    def organizations(self, domain_id: str) -> Any:
        """Organizations (ListAccounts: TARGETS discovery), a global service with account-scoped
        credentials: ``OrganizationsRegion.value_of(REGION)`` (which honours
        ``HUAWEICLOUD_SDK_REGION_ORGANIZATIONS_<REGION>``), else the SDK's one global endpoint."""
        from huaweicloudsdkcore.auth.credentials import GlobalCredentials
        from huaweicloudsdkorganizations.v1 import OrganizationsClient
        from huaweicloudsdkorganizations.v1.region.organizations_region import OrganizationsRegion

        credentials = GlobalCredentials(self.credentials.ak, self.credentials.sk, domain_id)
        if self.credentials.security_token:
            credentials = credentials.with_security_token(self.credentials.security_token)
        try:
            region = OrganizationsRegion.value_of(self.settings.region)
        except KeyError:  # the service is global: its one endpoint serves every region
            region = OrganizationsRegion.CN_NORTH_4
        return self.client("organizations", OrganizationsClient, region.endpoints[0], credentials)

    def functiongraph(self) -> Any:
        """The FunctionGraph client (continuations: this function invoking itself asynchronously)."""
        from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient

        return self.client("functiongraph", FunctionGraphClient, self.settings.functiongraph_endpoint)


_FACTORIES: dict[tuple[AgencyCredentials, str, str, float, float, int], ClientFactory] = {}
_FACTORIES_LOCK = threading.Lock()


def client_factory(credentials: AgencyCredentials, settings: Settings) -> ClientFactory:
    """The cached factory for these credentials and endpoints (a few entries at most)."""
    key = (
        credentials,
        settings.vpc_endpoint,
        settings.ecs_endpoint,
        settings.connect_timeout_s,
        settings.read_timeout_s,
        settings.concurrency,
    )
    with _FACTORIES_LOCK:
        factory = _FACTORIES.get(key)
        if factory is None:
            if len(_FACTORIES) >= 4:  # rotated credentials: drop the oldest
                _FACTORIES.pop(next(iter(_FACTORIES)))
            factory = ClientFactory(credentials, settings, pool_size=max(4, settings.concurrency))
            _FACTORIES[key] = factory
        return factory
