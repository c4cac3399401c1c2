"""The FunctionGraph context, as the Python runtime hands it to ``handler(event, context)``.

Exactly the methods of the documented context table (FunctionGraph developer guide, Python,
"SDK APIs": https://support.huaweicloud.com/devg-functiongraph/functiongraph_02_0502.html) and no
others, so a handler that calls an undocumented method fails here as it may on the platform.
In particular there is no ``getProjectID``: the project id comes from the preset environment
variable ``RUNTIME_PROJECT_ID`` (set by ``localcloud.runtime.process`` for deployed functions) or
from user data ``PROJECT_ID`` (which the deploy command writes).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping

__all__ = ["FunctionContext"]


class FunctionContext:
    def __init__(
        self,
        *,
        user_data: Mapping[str, str] | None = None,
        ak: str = "",
        sk: str = "",
        security_token: str = "",
        timeout_s: float = 30.0,
        function_name: str = "local",
        version: str = "latest",
        memory_mb: int = 256,
        request_id: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._user_data = dict(user_data or {})
        self._ak, self._sk, self._token = ak, sk, security_token
        self._timeout_s = timeout_s
        self._monotonic = monotonic
        self._ends_at = monotonic() + timeout_s
        self._function_name = function_name
        self._version = version
        self._memory_mb = memory_mb
        self._request_id = request_id or str(uuid.uuid4())
        self._logger = logging.getLogger(f"fgs.{function_name}")

    def __repr__(self) -> str:  # never show the credentials
        return f"FunctionContext(function={self._function_name!r}, request_id={self._request_id!r})"

    def getRequestID(self) -> str:
        return self._request_id

    def getRemainingTimeInMilliSeconds(self) -> int:
        return max(0, int((self._ends_at - self._monotonic()) * 1000))

    def getSecurityAccessKey(self) -> str:
        return self._ak

    def getSecuritySecretKey(self) -> str:
        return self._sk

    def getSecurityToken(self) -> str:
        return self._token

    def getAccessKey(self) -> str:  # documented, no longer maintained: returns no key any more
        return ""

    def getSecretKey(self) -> str:  # documented, no longer maintained: returns no key any more
        return ""

    def getToken(self) -> str:
        return ""

    def getUserData(self, key: str, default: str | None = None) -> str | None:
        return self._user_data.get(key, default)

    def getFunctionName(self) -> str:
        return self._function_name

    def getRunningTimeInSeconds(self) -> int:
        """The function's timeout (the documented meaning)."""
        return int(self._timeout_s)

    def getVersion(self) -> str:
        return self._version

    def getMemorySize(self) -> int:
        return self._memory_mb

    def getCPUNumber(self) -> int:
        return 1

    def getPackage(self) -> str:
        return "default"

    def getAlias(self) -> str:
        return ""

    def getLogger(self) -> logging.Logger:
        return self._logger
