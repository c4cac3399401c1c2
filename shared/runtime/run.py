"""One invocation: :class:`Run` holds its settings, clock, deadline and (lazily built) cloud clients.

Every flow reaches the cloud through its Run: :meth:`Run.network` / :meth:`Run.servers` /
:meth:`Run.inventory` / :meth:`Run.functions` build gateways that share the invocation's deadline,
retry policy and flow control, and :meth:`Run.apply` is the one way plans are written.
"""

from __future__ import annotations

from _thread import allocate_lock  # threading.Lock without importing threading (cold start)

from shared.clock import SYSTEM_CLOCK, Clock, Deadline
from shared.config import Settings, load_settings
from shared.errors import ErrorCode, ErrorDetail
from shared.records import field, record
from shared.results import EventMeta, Identity, ResultData, failure_data, result_event

TYPE_CHECKING = False
if TYPE_CHECKING:  # imported where used: a run that never calls the cloud never loads them (cold start)
    from typing import Any

    from shared.changes.apply import ApplyReport, Recheck
    from shared.changes.planning import NicPlan
    from shared.cloud.clients import ClientFactory
    from shared.cloud.exceptions import CloudCallError, DeadlineExceeded
    from shared.cloud.functions import FunctionGateway
    from shared.cloud.gateway import CallCounter, NetworkGateway, ServerGateway
    from shared.cloud.inventory import InventoryGateway
    from shared.cloud.limiter import AimdLimiter
    from shared.cloud.protocols import Network
    from shared.cloud.retry import RetryPolicy
    from shared.idempotency import MemoryStore

__all__ = ["Run", "cloud_failure", "replay_guard"]

_LIMITER_LOCK = allocate_lock()
_GUARD_LOCK = allocate_lock()
_REPLAY_GUARDS: dict[str, MemoryStore] = {}


def replay_guard(function: str) -> MemoryStore:
    """The instance's memory of the requests ``function`` handled (the idempotency store's ``memory``
    fallback; module state: it lives as long as the instance), made on first use: a message refused
    or skipped before it needs one never imports the idempotency package (cold start)."""
    with _GUARD_LOCK:  # batches run in threads: made once
        if function not in _REPLAY_GUARDS:
            from shared.idempotency import MemoryStore

            _REPLAY_GUARDS[function] = MemoryStore()
        return _REPLAY_GUARDS[function]


@record
class Run:
    """One invocation: its settings, clock, deadline, resources (the policy) and the cloud's doors."""

    function: str
    context: Any
    settings: Settings
    clock: Clock
    deadline: Deadline
    resources: dict[str, Any] = field(default_factory=dict)  # per-function things loaded at start (the policy)
    started_at: float = 0.0  # epoch seconds when the invocation started
    account: str | None = None  # the account the Run's credentials reach (None: the home account)
    _factory: ClientFactory | None = field(default=None, repr=False)
    _limiters: dict[str, AimdLimiter] = field(default_factory=dict, repr=False)  # per service

    @classmethod
    def start(cls, function: str, context: Any, *, clock: Clock | None = None, settings: Settings | None = None) -> Run:
        clock = clock or SYSTEM_CLOCK
        settings = settings or load_settings(context)
        run = cls(function, context, settings, clock, Deadline.from_context(context, clock, settings.safety_margin_ms))
        run.started_at = clock.epoch()
        return run

    @property
    def retry_policy(self) -> RetryPolicy:
        from shared.cloud.retry import RetryPolicy

        return RetryPolicy(self.settings.max_attempts, self.settings.backoff_base_s, self.settings.backoff_max_s)

    def factory(self) -> ClientFactory:
        from shared.cloud.clients import client_factory, credentials_from_context

        if self._factory is None:  # built on first cloud call: a rejected batch never builds a client
            self._factory = client_factory(credentials_from_context(self.context, self.settings), self.settings)
        return self._factory

    def limiter(self, service: str) -> AimdLimiter:
        """The invocation's flow control of ``service`` (``vpc``, ``ecs``), shared by its workers (AIMD
        on the calls in flight); with the Redis store also shared with every instance working on
        this account and region (:mod:`shared.cloud.limiter`)."""
        from shared.cloud.limiter import AimdLimiter

        with _LIMITER_LOCK:  # the first worker creates it, once
            limiter = self._limiters.get(service)
            if limiter is None:
                shared = self._shared_limit(service)
                limiter = AimdLimiter(self.settings.concurrency, monotonic=self.clock.monotonic, shared=shared)
                self._limiters[service] = limiter
            return limiter

    def _shared_limit(self, service: str) -> Any:
        if self.settings.idempotency_store == "memory":
            return None
        from shared.idempotency.limits import RedisSharedLimit
        from shared.idempotency.redis_backend import shared_client

        targets = self.settings.targets
        # the home account's domain id when TARGETS gives it, else the home project's id (finer than
        # the account, never shared by mistake with another deployment on the same Redis)
        account = self.account or (targets.home_account if targets else None) or f"project-{self.settings.project_id}"
        return RedisSharedLimit(shared_client(self.settings.idempotency_store), account, self.settings.region, service)

    def _gateway_options(self, counter: CallCounter | None, *, service: str | None = None) -> dict[str, Any]:
        return {
            "clock": self.clock,
            "deadline": self.deadline,
            "policy": self.retry_policy,
            "counter": counter,
            "limiter": self.limiter(service) if service else None,
        }

    def network(self, counter: CallCounter) -> NetworkGateway:
        from shared.cloud.gateway import NetworkGateway

        return NetworkGateway(self.factory(), **self._gateway_options(counter, service="vpc"))

    def servers(self, counter: CallCounter) -> ServerGateway:
        from shared.cloud.gateway import ServerGateway

        return ServerGateway(self.factory(), **self._gateway_options(counter, service="ecs"))

    def inventory(self, counter: CallCounter) -> InventoryGateway:
        """Whole-project listings (the sweep, the report): paged, not flow-limited (one caller)."""
        from shared.cloud.inventory import InventoryGateway

        return InventoryGateway(self.factory(), **self._gateway_options(counter))

    def functions(self) -> FunctionGateway:
        """FunctionGraph (this function invoking itself asynchronously)."""
        from shared.cloud.functions import FunctionGateway

        return FunctionGateway(self.factory(), **self._gateway_options(None))

    def rollback_deadline(self) -> Deadline:
        """Rollback may use part of the safety margin: leaving an interface half changed is worse."""
        margin_s = self.settings.safety_margin_ms / 1000 * self.settings.rollback_margin_share
        return Deadline(self.clock, self.deadline.remaining() + margin_s)

    def apply(
        self, plans: list[NicPlan], network: Network, *, recheck: Recheck | None, fresh: bool = False
    ) -> ApplyReport:
        """Apply the plans within this invocation's deadline, rolling back within part of the margin.

        ``recheck`` is the flow's rail step again (:func:`shared.rails.check.rechecker`): every
        whole-list write is judged by it on the list read just before the write. ``fresh``: the
        plans' lists were read just now (``WRITE_STRATEGY``, :mod:`shared.changes.apply`)."""
        from shared.changes.apply import apply_plans

        report = apply_plans(
            plans,
            network,
            clock=self.clock,
            deadline=self.deadline,
            policy=self.retry_policy,
            rollback_deadline=self.rollback_deadline,
            recheck=recheck,
            fresh=fresh,
            whole_list=self.settings.write_strategy == "fewest_calls",
        )
        self._record_added(report)
        return report

    def _record_added(self, report: ApplyReport) -> None:
        """The groups this change attached, per port, in the ledger sg_drift reads before a repair
        (:mod:`shared.idempotency.ledger`); a failure is logged, never the change's."""
        if not self.settings.ledger_ttl_s:
            return
        # ours only: a group another writer attached while we worked is not sgguard's to vouch for
        added = {nic.port_id: list(nic.added) for nic in report.nics if nic.status == "changed" and nic.added}
        if not added:
            return
        from shared.idempotency.ledger import ledger_for, log_failure

        try:
            ledger_for(self.settings).record(
                self.settings.project_id or "-",
                added,
                now_s=self.clock.epoch(),
                ttl_s=self.settings.ledger_ttl_s,
            )
        except Exception as error:  # noqa: BLE001 - the ledger is an aid: the change stands
            log_failure("record", error)

    def request_id(self) -> str:
        """The invocation's request id (FunctionGraph's), or "unknown" outside FunctionGraph."""
        method = getattr(self.context, "getRequestID", None)
        value = method() if callable(method) else None
        return str(value) if value else "unknown"

    def event(self, data: ResultData | dict[str, Any], meta: EventMeta | None = None) -> dict[str, Any]:
        return result_event(data, function=self.function, now=self.clock.epoch(), meta=meta)


def cloud_failure(error: CloudCallError | DeadlineExceeded, identity: Identity | None = None) -> ResultData:
    """A ``failed``, retryable result for a cloud call that kept failing or ran out of time."""
    from shared.cloud.exceptions import CloudCallError

    detail = (
        ErrorDetail(ErrorCode.CLOUD_ERROR, error.describe(), "$")
        if isinstance(error, CloudCallError)
        else ErrorDetail(ErrorCode.TIMEOUT, str(error), "$")
    )
    return failure_data(detail, retryable=True, identity=identity)
