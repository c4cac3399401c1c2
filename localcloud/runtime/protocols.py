"""What the runtime's parts need from :class:`.engine.LocalRuntime`, written down as Protocols.

:mod:`.async_invoke` (attempts, retries) and :mod:`.destinations` (where the outcome goes) are
parts of the one runtime that call back into it. They depend on these descriptions, never on
:mod:`.engine`: the engine imports them, they do not import the engine (not even for a type), and
what they may touch is exactly what is listed here. ``LocalRuntime`` satisfies both structurally
(mypy checks it where the engine hands itself to ``run_async``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .executions import ExecutionLog
from .instances import FunctionSnapshot, Outcome

if TYPE_CHECKING:
    from localcloud.core.state import Backend
    from localcloud.services.functiongraph.models import Invocation

__all__ = ["DestinationRuntime", "AsyncRuntime"]


class DestinationRuntime(Protocol):
    """What delivering a destination needs: the backend (its lock, its projects' SMN and
    FunctionGraph models) and running a FunctionGraph destination as a new async invocation in
    the background."""

    @property
    def backend(self) -> Backend: ...

    def spawn(self, target: Callable[..., object], *args: Any) -> None: ...

    def run_async(self, invocation: Invocation) -> dict[str, Any] | None: ...


class AsyncRuntime(DestinationRuntime, Protocol):
    """What ``run_async`` reads and calls: the generation and the reset event (a ``reset`` ends
    the loop), a snapshot of the function and one execution per attempt, the first retry pause and
    the gate retries wait at (a test's control: ``pause_retries``),
    the execution log (the final record's ``async`` summary) and the optional echo; plus what the
    destination it delivers needs."""

    @property
    def generation(self) -> int: ...

    @property
    def reset_event(self) -> threading.Event: ...

    @property
    def retry_delay_s(self) -> float: ...

    @property
    def retries_open(self) -> threading.Event: ...

    @property
    def log(self) -> ExecutionLog: ...

    @property
    def echo(self) -> Callable[[str], None] | None: ...

    def snapshot(self, invocation: Invocation) -> FunctionSnapshot | None: ...

    def execute(
        self, invocation: Invocation, snapshot: FunctionSnapshot, *, attempt: int = 1, timeout_s: float | None = None
    ) -> tuple[Outcome, dict[str, Any]]: ...
