"""The FunctionGraph context, as the Python runtime hands it to ``handler(event, context)``.

Same method names as the platform's (``getRequestID``, ``getRemainingTimeInMilliSeconds``,
``getSecurityAccessKey`` ...), so handlers run unchanged locally, in tests and in the emulator.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Callable, Mapping

__all__ = ["FunctionContext"]


class FunctionContext:
    def __init__(self, *, user_data: Mapping[str, str] | None = None, ak: str = "", sk: str = "",
                 security_token: str = "", project_id: str = "", timeout_s: float = 30.0,
                 function_name: str = "local", version: str = "latest", memory_mb: int = 256,
                 request_id: str | None = None, monotonic: Callable[[], float] = time.monotonic):
        self._user_data = dict(user_data or {})
        self._ak, self._sk, self._token = ak, sk, security_token
        self._project_id = project_id
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

    def getToken(self) -> str:
        return ""

    def getUserData(self, key: str, default: str | None = None) -> str | None:
        return self._user_data.get(key, default)

    def getFunctionName(self) -> str:
        return self._function_name

    def getVersion(self) -> str:
        return self._version

    def getMemorySize(self) -> int:
        return self._memory_mb

    def getCPUNumber(self) -> int:
        return 1

    def getProjectID(self) -> str:
        return self._project_id

    def getPackage(self) -> str:
        return "default"

    def getAlias(self) -> str:
        return ""

    def getLogger(self) -> logging.Logger:
        return self._logger
