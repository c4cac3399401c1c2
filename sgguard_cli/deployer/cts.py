"""CTS (Cloud Trace Service) reads for the CLI: the trace names a service records (preflight) and
recent traces (``sgguard capture --traces``). Read-only: two GETs, through the official SDK
(``huaweicloudsdkcts``, the ``deploy`` extra: the CLI's, never deployed).

- ``list_operations`` ``GET /v3/{project_id}/operations?service_type=&resource_type=`` ->
  ``{"operations": [{"service_type", "resource_type", "operation_list": [trace names]}]}``
  (CTS API "Querying All Operations on a Cloud Service", cts_api_0332; SDK ``ListOperationsRequest``,
  ``ListOperation``);
- ``list_traces`` ``GET /v3/{project_id}/traces?trace_type=system&from=&to=&limit=&next=&service_type=``
  -> ``{"traces": [...], "meta_data": {"count", "marker"}}`` (SDK ``ListTracesRequest``; ``next`` is
  the previous page's ``meta_data.marker``).

Answers are read as the API sent them (``to_json_object``), so fields the SDK's models lack are
kept. Errors become :class:`CtsError` with the status, code and message (CTS's body is
``{"error_code": "CTS.XXX", "error_msg"}``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CtsApi", "CtsError", "build_cts_client", "operation_index"]

_PAGE = 200  # ListTraces' largest page (SDK: limit 1..200)


class CtsError(Exception):
    def __init__(self, message: str, status: int | None = None, code: str = ""):
        super().__init__(message)
        self.status = status
        self.code = code


def build_cts_client(ak: str, sk: str, project_id: str, endpoint: str, security_token: str | None = None):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcts.v3 import CtsClient

    from .prereq_api import sdk_client

    credentials = BasicCredentials(ak, sk, project_id)
    if security_token:
        credentials = credentials.with_security_token(security_token)
    return sdk_client(CtsClient, credentials, endpoint)


@dataclass
class CtsApi:
    client: Any
    reads: int = field(default=0)

    @classmethod
    def build(cls, target) -> CtsApi:
        """From a :class:`sgguard_cli.cloudargs.CloudTarget` (credentials from the SDK's variables)."""
        credentials = target.required_credentials()
        client = build_cts_client(
            credentials.ak, credentials.sk, credentials.project_id, target.endpoint("cts"), credentials.security_token
        )
        return cls(client)

    def _read(self, operation: str, call: Callable[[], Any]) -> dict:
        from huaweicloudsdkcore.exceptions.exceptions import SdkException, ServiceResponseException

        self.reads += 1
        try:
            response = call()
        except ServiceResponseException as error:
            raise CtsError(
                f"cts.{operation}: HTTP {error.status_code} {error.error_code}: {error.error_msg}",
                error.status_code,
                str(error.error_code or ""),
            ) from None
        except SdkException as error:
            raise CtsError(f"cts.{operation}: {error}") from None
        raw = response.to_json_object() if hasattr(response, "to_json_object") else None
        return raw if isinstance(raw, dict) else {}

    def list_operations(self, service_type: str | None = None, resource_type: str | None = None) -> list[dict]:
        from huaweicloudsdkcts.v3.model import ListOperationsRequest

        request = ListOperationsRequest(service_type=service_type, resource_type=resource_type)
        operations = self._read("list_operations", lambda: self.client.list_operations(request)).get("operations")
        return [item for item in operations or [] if isinstance(item, dict)]

    def list_traces(self, service_type: str, from_ms: int, to_ms: int, limit: int, **filters: str) -> list[dict]:
        """Newest first, following ``meta_data.marker``; ``filters``: ListTraces' other query
        parameters (``resource_type``, ``resource_id``, ``trace_name``, ``user``...)."""
        from huaweicloudsdkcts.v3.model import ListTracesRequest

        traces: list[dict] = []
        marker: str | None = None
        while len(traces) < limit:
            request = ListTracesRequest(
                trace_type="system",
                service_type=service_type,
                _from=from_ms,
                to=to_ms,
                limit=min(_PAGE, limit - len(traces)),
                next=marker,
                **filters,
            )
            answer = self._read("list_traces", lambda: self.client.list_traces(request))
            page = [trace for trace in answer.get("traces") or [] if isinstance(trace, dict)]
            traces += page
            marker = (answer.get("meta_data") or {}).get("marker")
            if not page or not marker:
                break
        return traces[:limit]


def operation_index(operations: list[dict]) -> dict[tuple[str, str], set[str]]:
    """``(service_type, resource_type) -> trace names`` from a ListOperations answer; service types
    compared as the API spells them, resource types as well (``ecs``, ``ports``...)."""
    index: dict[tuple[str, str], set[str]] = {}
    for item in operations:
        key = (str(item.get("service_type") or ""), str(item.get("resource_type") or ""))
        names = item.get("operation_list") or []
        index.setdefault(key, set()).update(str(name) for name in names if isinstance(name, str))
    return index
