"""The FunctionGraph calls the deploy command makes, through the official SDK, as plain dicts.

Reads never change anything; every write goes through :meth:`FunctionGraphApi._write`, which
counts it, so ``--plan`` can prove it made none. Bodies are built with the SDK's request models
(their ``attribute_map`` is the wire format).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FunctionGraphApi", "DeployError", "build_client", "function_urn", "own_urn_destinations"]


class DeployError(Exception):
    pass


def function_urn(region: str, project_id: str, package: str, name: str) -> str:
    return f"urn:fss:{region}:{project_id}:function:{package}:{name}:latest"


def build_client(ak: str, sk: str, project_id: str, endpoint: str, security_token: str | None = None):
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.http.http_config import HttpConfig
    from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient

    credentials = BasicCredentials(ak, sk, project_id)
    if security_token:
        credentials = credentials.with_security_token(security_token)
    config = HttpConfig.get_default_config()
    config.timeout = (5, 120)  # uploads of a few MB
    config.retry_times = 0  # the SDK's retry re-sends writes; a deploy is simply run again
    return (
        FunctionGraphClient.new_builder()
        .with_credentials(credentials)
        .with_endpoints([endpoint])
        .with_http_config(config)
        .build()
    )


def _raw(response: Any) -> Any:
    """The response body as the API sent it (wire field names, nothing added by the SDK's models)."""
    return response.to_json_object() if hasattr(response, "to_json_object") else response


def _dict(response: Any) -> dict:
    return dict(_raw(response) or {})


@dataclass
class FunctionGraphApi:
    client: Any
    region: str
    project_id: str
    writes: list[str] = field(default_factory=list)
    reads: int = 0

    # ---- plumbing -------------------------------------------------------------------------
    def _call(self, operation: str, call: Callable[[], Any]) -> Any:
        from huaweicloudsdkcore.exceptions.exceptions import SdkException, ServiceResponseException

        try:
            return call()
        except ServiceResponseException as error:
            raise DeployError(f"{operation}: HTTP {error.status_code} {error.error_code}: {error.error_msg}") from None
        except SdkException as error:
            raise DeployError(f"{operation}: {error}") from None

    def _read(self, operation: str, call: Callable[[], Any]) -> Any:
        self.reads += 1
        return self._call(operation, call)

    def _write(self, operation: str, call: Callable[[], Any]) -> Any:
        self.writes.append(operation)
        return self._call(operation, call)

    def _not_found(self, operation: str, call: Callable[[], Any]) -> Any:
        """The response, or None on a 404."""
        from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException

        self.reads += 1
        try:
            return call()
        except ServiceResponseException as error:
            if error.status_code == 404:
                return None
            raise DeployError(f"{operation}: HTTP {error.status_code} {error.error_code}: {error.error_msg}") from None

    def urn(self, package: str, name: str) -> str:
        return function_urn(self.region, self.project_id, package, name)

    # ---- reads ----------------------------------------------------------------------------
    def show_config(self, urn: str) -> dict | None:
        from huaweicloudsdkfunctiongraph.v2 import ShowFunctionConfigRequest

        request = ShowFunctionConfigRequest(function_urn=urn)
        response = self._not_found("show_function_config", lambda: self.client.show_function_config(request))
        return None if response is None else _dict(response)

    def show_code(self, urn: str) -> dict:
        from huaweicloudsdkfunctiongraph.v2 import ShowFunctionCodeRequest

        return _dict(
            self._read(
                "show_function_code", lambda: self.client.show_function_code(ShowFunctionCodeRequest(function_urn=urn))
            )
        )

    def list_triggers(self, urn: str) -> list[dict]:
        from huaweicloudsdkfunctiongraph.v2 import ListFunctionTriggersRequest

        response = self._read(
            "list_function_triggers",
            lambda: self.client.list_function_triggers(ListFunctionTriggersRequest(function_urn=urn)),
        )
        return list(_raw(response) or [])

    def show_async_config(self, urn: str) -> dict | None:
        from huaweicloudsdkfunctiongraph.v2 import ShowFunctionAsyncInvokeConfigRequest

        response = self._not_found(
            "show_function_async_invoke_config",
            lambda: self.client.show_function_async_invoke_config(
                ShowFunctionAsyncInvokeConfigRequest(function_urn=urn)
            ),
        )
        return None if response is None else _dict(response)

    def dependency_versions(self, name: str) -> list[dict]:
        """Every version of the private dependency called ``name`` (empty when there is none)."""
        from huaweicloudsdkfunctiongraph.v2 import ListDependenciesRequest, ListDependencyVersionRequest

        listed = _dict(
            self._read(
                "list_dependencies",
                lambda: self.client.list_dependencies(ListDependenciesRequest(name=name, ispublic="false")),
            )
        )
        versions: list[dict] = []
        for dependency in listed.get("dependencies") or []:
            if dependency.get("name") != name:
                continue
            response = _dict(
                self._read(
                    "list_dependency_version",
                    lambda: self.client.list_dependency_version(
                        ListDependencyVersionRequest(depend_id=dependency["id"])
                    ),
                )
            )
            versions.extend(response.get("dependencies") or [])
        return versions

    # ---- writes ---------------------------------------------------------------------------
    def create_dependency_version(self, body: dict) -> dict:
        from huaweicloudsdkfunctiongraph.v2 import CreateDependencyRequestBody, CreateDependencyVersionRequest

        request = CreateDependencyVersionRequest(body=CreateDependencyRequestBody(**body))
        return _dict(self._write("create_dependency_version", lambda: self.client.create_dependency_version(request)))

    def create_function(self, body: dict) -> dict:
        from huaweicloudsdkfunctiongraph.v2 import CreateFunctionRequest, CreateFunctionRequestBody, FuncCode

        body = dict(body, func_code=FuncCode(file=body["func_code"]["file"]))
        if body.get("func_vpc") is not None:
            from huaweicloudsdkfunctiongraph.v2 import FuncVpc

            body["func_vpc"] = FuncVpc(**body["func_vpc"])
        request = CreateFunctionRequest(body=CreateFunctionRequestBody(**body))
        return _dict(self._write("create_function", lambda: self.client.create_function(request)))

    def update_code(self, urn: str, body: dict) -> dict:
        from huaweicloudsdkfunctiongraph.v2 import FuncCode, UpdateFunctionCodeRequest, UpdateFunctionCodeRequestBody

        body = dict(body, func_code=FuncCode(file=body["func_code"]["file"]))
        request = UpdateFunctionCodeRequest(function_urn=urn, body=UpdateFunctionCodeRequestBody(**body))
        return _dict(self._write("update_function_code", lambda: self.client.update_function_code(request)))

    def update_config(self, urn: str, body: dict) -> dict:
        from huaweicloudsdkfunctiongraph.v2 import (
            StrategyConfig,
            UpdateFunctionConfigRequest,
            UpdateFunctionConfigRequestBody,
        )

        if body.get("strategy_config") is not None:
            body = dict(body, strategy_config=StrategyConfig(**body["strategy_config"]))
        if body.get("func_vpc") is not None:
            from huaweicloudsdkfunctiongraph.v2 import FuncVpc

            body = dict(body, func_vpc=FuncVpc(**body["func_vpc"]))
        request = UpdateFunctionConfigRequest(function_urn=urn, body=UpdateFunctionConfigRequestBody(**body))
        return _dict(self._write("update_function_config", lambda: self.client.update_function_config(request)))

    def create_trigger(self, urn: str, trigger) -> dict:
        from huaweicloudsdkfunctiongraph.v2 import CreateFunctionTriggerRequest, CreateFunctionTriggerRequestBody

        # event_data goes as a plain dict: the SDK serialises dicts as they are, and some fields
        # (e.g. APIG func_info) have no model attribute of their own.
        body = CreateFunctionTriggerRequestBody(
            trigger_type_code=trigger.trigger_type_code,
            trigger_status=trigger.trigger_status,
            event_type_code=trigger.event_type_code or None,
            event_data=dict(trigger.event_data),
        )
        request = CreateFunctionTriggerRequest(function_urn=urn, body=body)
        return _dict(self._write("create_function_trigger", lambda: self.client.create_function_trigger(request)))

    def update_trigger_status(self, urn: str, trigger_type_code: str, trigger_id: str, status: str) -> dict:
        from huaweicloudsdkfunctiongraph.v2 import UpdateTriggerRequest, UpdateTriggerRequestBody

        request = UpdateTriggerRequest(
            function_urn=urn,
            trigger_type_code=trigger_type_code,
            trigger_id=trigger_id,
            body=UpdateTriggerRequestBody(trigger_status=status),
        )
        return _dict(self._write("update_trigger", lambda: self.client.update_trigger(request)))

    def delete_trigger(self, urn: str, trigger_type_code: str, trigger_id: str) -> None:
        from huaweicloudsdkfunctiongraph.v2 import DeleteFunctionTriggerRequest

        request = DeleteFunctionTriggerRequest(
            function_urn=urn, trigger_type_code=trigger_type_code, trigger_id=trigger_id
        )
        self._write("delete_function_trigger", lambda: self.client.delete_function_trigger(request))

    def update_async_config(self, urn: str, config: dict) -> dict:
        from huaweicloudsdkfunctiongraph.v2 import (
            FuncAsyncDestinationConfig,
            FuncDestinationConfig,
            UpdateFunctionAsyncInvokeConfigRequest,
            UpdateFunctionAsyncInvokeConfigRequestBody,
        )

        destinations = {
            key: FuncDestinationConfig(**value) for key, value in (config.get("destination_config") or {}).items()
        }
        body = UpdateFunctionAsyncInvokeConfigRequestBody(
            max_async_event_age_in_seconds=config.get("max_async_event_age_in_seconds"),
            max_async_retry_attempts=config.get("max_async_retry_attempts"),
            destination_config=FuncAsyncDestinationConfig(**destinations) if destinations else None,
            enable_async_status_log=config.get("enable_async_status_log"),
        )
        request = UpdateFunctionAsyncInvokeConfigRequest(function_urn=urn, body=body)
        return _dict(
            self._write(
                "update_function_async_invoke_config", lambda: self.client.update_function_async_invoke_config(request)
            )
        )

    def delete_async_config(self, urn: str) -> None:
        from huaweicloudsdkfunctiongraph.v2 import DeleteFunctionAsyncInvokeConfigRequest

        request = DeleteFunctionAsyncInvokeConfigRequest(function_urn=urn)
        self._write(
            "delete_function_async_invoke_config", lambda: self.client.delete_function_async_invoke_config(request)
        )


def own_urn_destinations(config: dict | None, urn: str) -> dict | None:
    """``config`` with a FunctionGraph destination's ``func_urn: self`` made the function's own URN
    (the retry lane's dead letters come back to the function: docs/retries.md)."""
    if not config:
        return config
    destinations = {}
    for key, target in (config.get("destination_config") or {}).items():
        param = json.loads(target["param"]) if isinstance(target.get("param"), str) else target.get("param")
        if target.get("destination") == "FunctionGraph" and isinstance(param, dict) and param.get("func_urn") == "self":
            target = {**target, "param": json.dumps({**param, "func_urn": urn}, sort_keys=True, separators=(",", ":"))}
        destinations[key] = target
    return {**config, "destination_config": destinations}
