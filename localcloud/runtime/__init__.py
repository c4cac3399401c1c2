"""A local FunctionGraph runtime for localcloud: runs the functions deployed into it.

    from localcloud.runtime import start
    cloud = start()                 # localcloud + runtime; cloud.runtime is the LocalRuntime
    ...                             # deploy (scripts/deploy.py --endpoint cloud.url), create servers...
    cloud.runtime.wait_idle()
    cloud.stop()

or ``install(cloud)`` on a running :class:`localcloud.LocalCloud`. Installing registers the
invoker of the FunctionGraph emulation (sync and async invocations run the stored zip in a
``python`` process, :mod:`.instances`), the trigger listeners (CTS / EventGrid on server creation,
SMN, EventGrid: :mod:`.triggers`), DMS topics and exchanges (:mod:`.dms`), the APIG route
``/_apig/...`` (:mod:`.apig`) and the control routes (:mod:`.control`). docs/local.md tells the rest.
"""

from __future__ import annotations

from typing import Any

from .context import FunctionContext

__all__ = ["FunctionContext", "install", "uninstall", "start"]

_ATTR = "_localcloud_runtime"


def install(cloud: Any, **options: Any):
    """Run what is deployed into ``cloud`` (a :class:`localcloud.LocalCloud`); idempotent.

    ``options`` go to :class:`.engine.LocalRuntime` (``warm``, ``idle_s``, ``max_instances``,
    ``retry_delay_s``, ``cache_dir``, ``echo``).
    """
    from localcloud.services.functiongraph import register_invoker

    from . import control as _control  # noqa: F401  (registers the control routes)
    from .apig import install_http
    from .dms import Broker
    from .engine import LocalRuntime
    from .triggers import install_listeners

    backend = cloud.backend
    runtime = getattr(backend, _ATTR, None)
    if runtime is not None:
        return runtime
    runtime = LocalRuntime(backend, **options)
    runtime.broker = Broker(runtime)
    runtime.on_reset(runtime.broker.reset)
    runtime.listeners = install_listeners(runtime)
    from .timers import TimerLoop

    runtime.timers = TimerLoop(runtime)
    register_invoker(backend, runtime)
    install_http(cloud.server)
    setattr(backend, _ATTR, runtime)
    cloud.runtime = runtime
    return runtime


def uninstall(cloud: Any) -> None:
    """Stop the runtime: kill its instances, forget its listeners and invoker."""
    from localcloud.services.functiongraph import register_invoker

    backend = cloud.backend
    runtime = getattr(backend, _ATTR, None)
    if runtime is None:
        return
    for topic, listener in getattr(runtime, "listeners", []):
        listeners = backend.listeners.get(topic, [])
        if listener in listeners:
            listeners.remove(listener)
    register_invoker(backend, None)
    if runtime.timers is not None:
        runtime.timers.stop()
    setattr(backend, _ATTR, None)
    runtime.close()


def start(*, runtime_options: dict | None = None, **start_options: Any):
    """:func:`localcloud.start` with the runtime installed; ``stop()`` stops both."""
    from localcloud import start as start_cloud

    cloud = start_cloud(**start_options)
    install(cloud, **(runtime_options or {}))
    cloud.before_stop(lambda: uninstall(cloud))
    return cloud
