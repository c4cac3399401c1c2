"""Routes: a service declares ``(method, path template) -> handler`` with its error style.

Handlers only parse the request and shape the response; the models behind them own state and
invariants. A handler receives an :class:`ApiContext` and returns ``(status, body)``, where body
is a JSON-serialisable object or ``None`` for an empty response.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, overload

from .errors import BadRequest

__all__ = ["ApiContext", "Route", "Router"]


@dataclass
class ApiContext:
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw_body: bytes
    request_id: str
    project: Any  # localcloud.core.state.ProjectState
    backend: Any  # localcloud.core.state.Backend
    ak: str = ""
    credential: Any = None  # the caller's localcloud.core.state.Credential (cloud API routes)
    _json: Any = field(default=None, repr=False)
    server: Any = field(default=None, repr=False)  # the LocalCloudServer: set for control routes only

    def json(self, style_code: str = "Common.0001") -> Any:
        """The JSON body; a malformed one is the service's own 400."""
        if self._json is None and self.raw_body:
            import json

            try:
                self._json = json.loads(self.raw_body)
            except ValueError:
                raise BadRequest(style_code, "The request body is not valid JSON.") from None
        return self._json

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    @overload
    def int_arg(self, name: str, default: int, code: str = ...) -> int: ...

    @overload
    def int_arg(self, name: str, default: None = None, code: str = ...) -> int | None: ...

    def int_arg(self, name: str, default: int | None = None, code: str = "Common.0002") -> int | None:
        value = self.arg(name)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise BadRequest(code, f"Query parameter {name} must be an integer.") from None


Handler = Callable[[ApiContext], tuple[int, Any]]


@dataclass
class Route:
    method: str
    template: str
    pattern: re.Pattern
    handler: Handler
    style: str
    service: str
    write: bool


class Router:
    """Routes of one service API version, all sharing one error style."""

    def __init__(self, service: str, style: str):
        self.service = service
        self.style = style
        self.routes: list[Route] = []

    def route(self, method: str, template: str) -> Callable[[Handler], Handler]:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$"

        def register(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    method.upper(),
                    template,
                    re.compile(regex),
                    handler,
                    self.style,
                    self.service,
                    method.upper() not in ("GET", "HEAD"),
                )
            )
            return handler

        return register
