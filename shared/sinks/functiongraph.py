"""The ``functiongraph`` sink: invoke a function asynchronously with each result event.

``{"type": "functiongraph", "function_urn": "urn:fss:<region>:<project_id>:function:<package>:<name>[:<version>]"}``;
endpoint from ``FUNCTIONGRAPH_ENDPOINT`` (default ``https://functiongraph.<REGION>.myhuaweicloud.com``).

``huaweicloudsdkfunctiongraph.v2.FunctionGraphClient.async_invoke_function`` ->
``POST /v2/{project_id}/fgs/functions/{function_urn}/invocations-async`` (202 ``{"request_id"}``);
the body is the CloudEvent itself (structured JSON), at most 256 KB (the async request limit).
The invoked function (e.g. a ticket updater) receives the event as its ``event`` argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.model import FUNCTION_URN_RE
from shared.sinks.base import Sink, config_str, sdk_client, sdk_error
from shared.sinks.exceptions import SinkError

if TYPE_CHECKING:
    from shared.clock import Deadline
    from shared.sinks.base import SinkRun

__all__ = ["FunctionGraphSink"]

MAX_ASYNC_BYTES = 256 * 1024


class FunctionGraphSink(Sink):
    kind = "functiongraph"

    def __init__(self, name: str, config: dict[str, Any], run: SinkRun, deadline: Deadline) -> None:
        super().__init__(name, config, run, deadline)
        self.function_urn = config_str(self, "function_urn")
        if not FUNCTION_URN_RE.match(self.function_urn):
            raise self.config_error(
                f"RESULT_SINKS entry {name!r}: function_urn must look like "
                "urn:fss:<region>:<project_id>:function:<package>:<name>[:<version>]",
                "RESULT_SINKS",
            )
        self.endpoint = run.settings.functiongraph_endpoint

    def check(self, event: dict[str, Any], size: int) -> SinkError | None:
        if size > MAX_ASYNC_BYTES:
            return self.error(
                f"the event is {size} bytes; an asynchronous invocation takes at most 256 KB ({MAX_ASYNC_BYTES} bytes)",
                code="PAYLOAD_TOO_LARGE",
            )
        return None

    def _client(self) -> Any:
        def load() -> Any:
            from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient

            return FunctionGraphClient

        return sdk_client(self, "functiongraph", load, self.endpoint)

    def send(self, events: list[dict[str, Any]]) -> dict[int, SinkError] | None:
        client = self._client()
        from huaweicloudsdkfunctiongraph.v2 import AsyncInvokeFunctionRequest

        (event,) = events
        try:
            client.async_invoke_function(AsyncInvokeFunctionRequest(function_urn=self.function_urn, body=event))
        except Exception as error:  # noqa: BLE001 - classified below
            raise sdk_error(self, "functiongraph async_invoke_function", error) from None
        return None
