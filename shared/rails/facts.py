"""The guard rails' facts, read once per batch and reused while they are fresh.

What the rails decide on - which groups exist, their rules, the IP address groups those rules name -
used to be read for every message: two or three calls each, for facts the previous message had
just read. An invocation receives its whole batch at once, so facts read for one message are as
fresh for the next as a read of its own would be a moment later. :class:`FactsCache` keeps every
fact with the time its read *started* (the conservative age) and hands it out only while it is no
older than ``FACTS_MAX_AGE_MS`` at the moment of the decision; a missing or older fact is read
again. So "fresh" means exactly: **every fact a decision uses was read no more than
``FACTS_MAX_AGE_MS`` before the rails judged** (``0``: read for every decision, as before). A rule
changed after the read is sg_drift's to catch, as it always was for a rule changed after a write.

Reads are single flight: when several messages of a batch need a group at the same moment, one
reads it and the others wait for that read. One read renews every stale fact of the cache at once
(the ids go in the same two listings), so a long batch refreshes its facts about once per
``FACTS_MAX_AGE_MS``, not once per message.

A batch's requests name the groups they add or keep: :meth:`FactsCache.expect` notes them before its
first message starts, and the first read (which a message makes anyway) reads them too, so a batch
reads its facts once, however many messages it has, and a single message still reads only once.

A group absent from a read's answer does not exist (or the agency cannot see it): that too is a
fact, kept with its age, so a poison batch naming a missing group does not read it per message.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from shared.rails.guardrails import GroupFacts

if TYPE_CHECKING:
    from shared.changes.planning import NicPlan
    from shared.cloud.protocols import Network
    from shared.model import SecurityGroup
    from shared.rails.groups import GroupCatalog
    from shared.runtime.run import Run

__all__ = ["FactsCache", "facts_of"]

V = TypeVar("V")


@dataclass(frozen=True)
class _Fact(Generic[V]):
    value: V | None  # None: the read said it does not exist (a group) or could not read it (an address group)
    read_at: float  # monotonic time the read started


class _Shelf(Generic[V]):
    """Facts of one kind, by id, with single-flight reads (thread-safe)."""

    def __init__(self, max_age_s: float, monotonic: Callable[[], float]):
        self.max_age_s = max_age_s
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._facts: dict[str, _Fact[V]] = {}
        self._reading: dict[str, threading.Event] = {}
        self.reads = 0  # reads made (each one call or two, whatever the number of ids)

    def get(
        self,
        ids: Iterable[str],
        read: Callable[[set[str]], Mapping[str, V | None]],
        expected: Callable[[], Iterable[str]] = tuple,
    ) -> dict[str, V | None]:
        """Every id's fact, no older than ``max_age_s`` now; ``read`` gets the missing and stale ones
        (plus any other stale or ``expected`` one not yet read) and answers with what exists."""
        wanted = set(ids)
        ours: dict[str, V | None] = {}  # read by this thread just now: fresh for this decision
        while True:
            now = self.monotonic()
            with self._lock:
                found = {i: f.value for i in wanted if (f := self._facts.get(i)) is not None and self._fresh(f, now)}
                missing = wanted - set(found)
                waits = {self._reading[i] for i in missing if i in self._reading}
                mine = {i for i in missing if i not in self._reading}
                if mine:  # renew the whole stale set, and read what the batch will need, in the same read
                    mine |= {i for i, f in self._facts.items() if not self._fresh(f, now) and i not in self._reading}
                    mine |= {i for i in expected() if i not in self._facts and i not in self._reading}
                    done = threading.Event()
                    for i in mine:
                        self._reading[i] = done
            if mine:
                answer = self._read(mine, read, done)
                ours.update({i: answer.get(i) for i in mine & wanted})
            found.update(ours)
            wanted -= set(ours)
            if not waits:
                return found
            for event in waits:  # another thread is reading them: its answer, once in, is fresh enough
                event.wait()
            wanted |= set(found) - set(ours)  # judged again on the next pass (a fact may have aged)

    def _fresh(self, fact: _Fact[V], now: float) -> bool:
        return self.max_age_s > 0 and now - fact.read_at <= self.max_age_s

    def _read(
        self, ids: set[str], read: Callable[[set[str]], Mapping[str, V | None]], done: threading.Event
    ) -> Mapping[str, V | None]:
        started = self.monotonic()
        try:
            answer = read(ids)
            with self._lock:
                self.reads += 1
                for i in ids:
                    self._facts[i] = _Fact(answer.get(i), started)
            return answer
        finally:  # a failed read: the waiting threads read for themselves
            with self._lock:
                for i in ids:
                    if self._reading.get(i) is done:
                        del self._reading[i]
            done.set()


@contextmanager
def _counted_as_facts(gateway: Network) -> Iterator[None]:
    """The reads made meanwhile through ``gateway`` count as rail facts in its counter too."""
    counter = getattr(gateway, "counter", None)
    before = counter.reads if counter is not None else 0
    try:
        yield
    finally:
        if counter is not None:
            counter.facts += counter.reads - before


def _address_refs(groups: Iterable[SecurityGroup]) -> set[str]:
    """The IP address groups that an inbound rule of ``groups`` names."""
    return {
        rule.remote_address_group_id
        for group in groups
        for rule in group.rules or []
        if rule.remote_address_group_id and rule.direction == "ingress"
    }


class FactsCache:
    """One invocation's rail facts (:mod:`shared.rails.facts`). ``max_age_s``: ``FACTS_MAX_AGE_MS``."""

    def __init__(self, max_age_s: float, monotonic: Callable[[], float]):
        self.max_age_s = max_age_s
        self._groups: _Shelf[SecurityGroup] = _Shelf(max_age_s, monotonic)
        self._address_groups: _Shelf[list[str]] = _Shelf(max_age_s, monotonic)
        self._expect: Callable[[], Iterable[str]] | None = None
        self._expected: frozenset[str] = frozenset()

    def expect(self, ids: Callable[[], Iterable[str]]) -> None:
        """Groups the batch's messages will need, worked out at the first read any message makes
        (by then that message has resolved its names: the catalog answers without a call)."""
        self._expect = ids

    def _expected_ids(self) -> frozenset[str]:
        if self._expect is not None:
            ids, self._expect = self._expect, None
            self._expected = self._expected | frozenset(ids())
        return self._expected

    @property
    def reads(self) -> int:
        """Reads made so far (a group read is two listings, an address group read one call each)."""
        return self._groups.reads + self._address_groups.reads

    def groups(self, ids: Iterable[str], gateway: Network) -> dict[str, SecurityGroup]:
        """The groups that exist among ``ids``, with their rules, each no older than the bound. A
        read goes through ``gateway`` (the deciding message's: its ``api_calls`` count it, and say
        how many of its reads were these facts: ``facts``)."""
        wanted = set(ids)
        if not wanted:
            return {}
        with _counted_as_facts(gateway):
            facts = self._groups.get(wanted, gateway.read_groups, self._expected_ids)
        return {i: group for i, group in facts.items() if group is not None}

    def address_groups(self, refs: Iterable[str], gateway: Network) -> dict[str, list[str] | None]:
        """The ``ip_set`` of each IP address group (None: it could not be read: counts as everyone)."""
        wanted = set(refs)
        if not wanted:
            return {}
        with _counted_as_facts(gateway):
            return self._address_groups.get(
                wanted, lambda missing: {ref: gateway.show_address_group(ref) for ref in sorted(missing)}
            )

    def gather(
        self, plans: Iterable[NicPlan], gateway: Network, catalog: GroupCatalog, known: GroupFacts | None = None
    ) -> GroupFacts:
        """The facts for the changing plans: every group they mention (before and after), with
        rules, and the address groups those rules name. ``known``: facts the caller read for this
        decision a moment ago (sg_drift judged the server on them); only what they lack comes from
        the cache."""
        ids = {g for plan in plans if plan.changes for g in plan.before + plan.after}
        have = {  # a group known by name only (rules not read) is read like any other
            g: known.groups[g]
            for g in ids
            if known is not None and g in known.groups and known.groups[g].rules is not None
        }
        groups = {**have, **self.groups(ids - set(have), gateway)}
        refs = _address_refs(groups.values())
        given = {r: ips for r, ips in (known.address_groups if known is not None else {}).items() if r in refs}
        addresses = self.address_groups(refs - set(given), gateway)
        return GroupFacts(groups, catalog.name_counts(groups), {**given, **addresses})


_MADE = threading.Lock()


def facts_of(run: Run) -> FactsCache:
    """The invocation's cache, made on first use."""
    with _MADE:
        cache = run.resources.get("facts")
        if cache is None:
            cache = run.resources["facts"] = FactsCache(run.settings.facts_max_age_ms / 1000, run.clock.monotonic)
        return cache
