"""FunctionGraph, as the functions call it: one asynchronous invocation of a function.

``AsyncInvokeFunction`` (``huaweicloudsdkfunctiongraph.v2``, ``POST
/v2/{project_id}/fgs/functions/{function_urn}/invocations-async``, 202 ``{"request_id"}``; IAM
``functiongraph:function:invokeAsync``). An invocation is never sent twice: a throttled one (refused
by the API gateway before FunctionGraph saw it) is repeated after a back-off, anything else - a
timeout may have landed - is raised as it is.
"""

from __future__ import annotations

from typing import Any

from shared.cloud.exceptions import CloudCallError, InvalidIdentifier
from shared.cloud.gateway import Gateway
from shared.cloud.retry import backoff_delay, translate
from shared.model import FUNCTION_URN_RE

__all__ = ["FunctionGateway"]


class FunctionGateway(Gateway):
    def async_invoke(self, function_urn: str, event: dict[str, Any], *, throttle_attempts: int = 3) -> str:
        """Invoke ``function_urn`` asynchronously with ``event``; the invocation's request id."""
        from huaweicloudsdkfunctiongraph.v2 import AsyncInvokeFunctionRequest

        if not FUNCTION_URN_RE.match(function_urn):
            raise InvalidIdentifier("function URN", function_urn)
        client = self.factory.functiongraph()
        request = AsyncInvokeFunctionRequest(function_urn=function_urn, body=event)
        operation = "functiongraph.async_invoke_function"
        for attempt in range(max(1, throttle_attempts)):
            self.counter.writes += 1
            self.counter.log.append(operation)
            try:
                response = client.async_invoke_function(request)
                return str(getattr(response, "request_id", None) or "unknown")
            except Exception as raw:  # noqa: BLE001 - classified below
                error = translate(operation, raw)
            if not error.throttled or attempt + 1 >= throttle_attempts:
                raise error
            delay = backoff_delay(attempt, self.policy, self.clock)
            if not self.deadline.allows(delay):
                raise error
            self.clock.sleep(delay)
        raise CloudCallError(operation, status=None, code="NotInvoked", message="no attempt")  # pragma: no cover
