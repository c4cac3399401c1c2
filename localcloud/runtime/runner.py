"""The process a local FunctionGraph instance runs: ``python runner.py`` (by path, never imported).

Started by :mod:`localcloud.runtime.process` with the function's code directory as working
directory and first on ``PYTHONPATH`` (then the dependency directories), like the platform's
``/opt/function/code``. It imports nothing of localcloud or of the project: the context class is
loaded from ``context.py`` beside this file, by path, so the handler imports the ``shared``
package of its own code zip and nothing else.

Protocol (one JSON object per line):

* stdin, one request per invocation: ``{"request_id", "handler", "event", "timeout_s", "context":
  {...FunctionContext keyword arguments...}, "initializer": {"handler", "timeout_s"} | null}``;
* the original stdout (kept on a private descriptor), one answer per request: ``{"request_id",
  "ok", "result", "error": {"errorMessage", "errorType", "stackTrace"} | null, "log": "...",
  "duration_ms", "init_ms"}``.

While a handler runs, ``sys.stdout`` and ``sys.stderr`` collect what it prints (the function's
log, as FunctionGraph ships stdout to LTS); descriptor 1 itself points at stderr, so nothing a
library writes can corrupt the protocol. The process serves requests until stdin closes (a warm
instance) and runs one at a time (``concurrent_num`` 1). The parent enforces the timeout by
killing the process.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import logging
import os
import sys
import threading
import time
import traceback

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load_context_class():
    spec = importlib.util.spec_from_file_location("_fgs_local_context", os.path.join(_HERE, "context.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FunctionContext


class _Capture(io.TextIOBase):
    """A text stream shared by stdout and stderr: what the handler prints, line by line."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: list[str] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            text = str(text)
        with self._lock:
            self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    encoding = "utf-8"  # some libraries look at it (a class attribute: TextIOBase's is None)

    def isatty(self) -> bool:
        return False

    def take(self) -> str:
        with self._lock:
            text = "".join(self._parts)
            self._parts.clear()
        return text


class _CurrentStreamHandler(logging.Handler):
    """The context logger writes to whatever ``sys.stdout`` is at the time (the capture)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001
            self.handleError(record)


def _user_traceback(exc: BaseException):
    """The traceback without this runner's own frames."""
    tb = exc.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(__file__):
        tb = tb.tb_next
    return tb


def _error(exc: BaseException) -> dict:
    return {
        "errorMessage": str(exc) or exc.__class__.__name__,
        "errorType": exc.__class__.__name__,
        "stackTrace": traceback.format_exception(type(exc), exc, _user_traceback(exc))[-20:],
    }


def _resolve(handler: str):
    module_name, _, function_name = handler.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, function_name)


def main() -> int:
    if sys.path and os.path.abspath(sys.path[0] or ".") == _HERE:
        del sys.path[0]  # never let the handler import this directory's modules
    context_class = _load_context_class()
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # stray writes to descriptor 1 (C code, subprocesses) go to stderr
    capture = _Capture()
    sys.stdout = capture
    sys.stderr = capture
    fgs_logger = logging.getLogger("fgs")
    handler_ = _CurrentStreamHandler()
    handler_.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    fgs_logger.addHandler(handler_)
    fgs_logger.setLevel(logging.INFO)
    fgs_logger.propagate = False
    initialized = False
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        started = time.monotonic()
        init_ms = 0.0
        answer: dict = {"request_id": request.get("request_id"), "ok": False, "result": None, "error": None}
        try:
            context = context_class(timeout_s=float(request.get("timeout_s", 30)), **request.get("context", {}))
            initializer = request.get("initializer")
            if initializer and not initialized:
                init_started = time.monotonic()
                _resolve(initializer["handler"])(context)
                init_ms = (time.monotonic() - init_started) * 1000
            initialized = True
            function = _resolve(request["handler"])
            result = function(request.get("event"), context)
            try:
                json.dumps(result)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"the handler's result is not JSON serializable: {exc}") from None
            answer.update(ok=True, result=result)
        except BaseException as exc:  # noqa: BLE001 - SystemExit too: the platform reports it as an error
            traceback.print_exception(type(exc), exc, _user_traceback(exc), file=capture)
            answer["error"] = _error(exc)
        answer["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        answer["init_ms"] = round(init_ms, 3)
        answer["log"] = capture.take()
        protocol.write(json.dumps(answer, default=str) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
