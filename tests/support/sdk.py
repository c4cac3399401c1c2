"""Official SDK clients pointed at a running localcloud."""

from __future__ import annotations

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig

__all__ = [
    "credentials_for",
    "http_config",
    "vpc_v2_client",
    "vpc_v3_client",
    "ecs_client",
    "functiongraph_client",
    "cts_client",
]


def credentials_for(cloud, *, ak=None, sk=None, project_id=None, security_token=None):
    credentials = BasicCredentials(ak or cloud.ak, sk or cloud.sk, project_id or cloud.project_id)
    if security_token:
        credentials = credentials.with_security_token(security_token)
    return credentials


def http_config(read_timeout: float = 5.0) -> HttpConfig:
    config = HttpConfig.get_default_config()
    config.timeout = (2, read_timeout)
    config.retry_times = 0  # the SDK's own retry re-sends PUTs; never use it
    return config


def _build(client_cls, cloud, credentials, read_timeout):
    return (
        client_cls.new_builder()
        .with_credentials(credentials or credentials_for(cloud))
        .with_endpoints([cloud.url])
        .with_http_config(http_config(read_timeout))
        .build()
    )


def vpc_v2_client(cloud, credentials=None, read_timeout: float = 5.0):
    from huaweicloudsdkvpc.v2 import VpcClient

    return _build(VpcClient, cloud, credentials, read_timeout)


def vpc_v3_client(cloud, credentials=None, read_timeout: float = 5.0):
    from huaweicloudsdkvpc.v3 import VpcClient

    return _build(VpcClient, cloud, credentials, read_timeout)


def ecs_client(cloud, credentials=None, read_timeout: float = 5.0):
    from huaweicloudsdkecs.v2 import EcsClient

    return _build(EcsClient, cloud, credentials, read_timeout)


def functiongraph_client(cloud, credentials=None, read_timeout: float = 10.0):
    from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient

    return _build(FunctionGraphClient, cloud, credentials, read_timeout)


def create_inline_function(cloud, name: str, source: bytes, *, memory_size: int = 128, timeout: int = 30) -> str:
    """A function created in localcloud through the official SDK (inline code); its URN."""
    import base64

    from huaweicloudsdkfunctiongraph.v2 import CreateFunctionRequest, CreateFunctionRequestBody, FuncCode

    body = CreateFunctionRequestBody(
        func_name=name,
        package="default",
        runtime="Python3.10",
        handler="index.handler",
        memory_size=memory_size,
        timeout=timeout,
        code_type="inline",
        func_code=FuncCode(file=base64.b64encode(source).decode()),
    )
    return functiongraph_client(cloud).create_function(CreateFunctionRequest(body=body)).func_urn


def cts_client(cloud, credentials=None, read_timeout: float = 5.0):
    from huaweicloudsdkcts.v3 import CtsClient

    return _build(CtsClient, cloud, credentials, read_timeout)
