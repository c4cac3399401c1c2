"""DMS for Kafka and for RabbitMQ, as far as FunctionGraph triggers see them: topics (Kafka) and
exchanges (RabbitMQ) that anyone can publish to, and one consumer per trigger.

Publishing (``POST /_localcloud/dms/topics/{topic}/messages`` or ``.../exchanges/{exchange}/messages``,
``{"messages": [str, ...], "instance_id"?: ..., "project_id"?: ...}``, or ``scripts/dms.py``) appends
the messages to the topic's log (offsets from 0) and hands them to every ACTIVE trigger that reads
that topic: KAFKA triggers listing it in ``topic_ids``, RABBITMQ triggers whose ``exchange_name``
it is (and, when the publisher names one, of that ``instance_id``). A trigger's consumer starts
at the first message published after it was first seen, and delivers its backlog in order, in
batches of at most the trigger's ``batch_size``, one batch at a time: each batch is one
asynchronous invocation (retries and destinations as configured) in the platform's envelope::

    {"event_version": "v1.0", "event_time": <epoch s>, "trigger_type": "KAFKA" | "RABBITMQ",
     "region": ..., "instance_id": ..., "records": [{"messages": [...], "topic_id": <topic>}]}

The next batch waits for the previous invocation to finish (success, or retries exhausted): a
consumer commits after processing, so order is kept and a failing batch is retried whole.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .engine import LocalRuntime

__all__ = ["Broker", "KINDS"]

KINDS = {"KAFKA": "topic", "RABBITMQ": "exchange"}


@dataclass
class _Consumer:
    trigger_id: str
    project_id: str
    function: str
    trigger_type: str
    topic: str
    instance_id: str
    batch_size: int
    offset: int  # next offset to deliver
    delivered: int = 0
    batches: list = field(default_factory=list)  # [{"request_id", "first", "count", "status"}]
    running: bool = False


@dataclass
class _Topic:
    kind: str
    name: str
    messages: list = field(default_factory=list)  # [{"offset", "message", "instance_id", "published_at"}]
    consumers: dict = field(default_factory=dict)  # trigger_id -> _Consumer


class Broker:
    def __init__(self, runtime: LocalRuntime):
        self.runtime = runtime
        self._lock = threading.Lock()  # never held while waiting for the backend lock
        self._topics: dict[tuple[str, str], _Topic] = {}

    def reset(self) -> None:
        self._topics = {}

    # ---- publishing -------------------------------------------------------------------------------
    def _matching_triggers(self, kind: str, name: str, instance_id: str | None, project_id: str | None) -> list[dict]:
        backend = self.runtime.backend
        found = []
        with backend.lock:
            for pid, state in sorted(backend.projects.items()):
                if project_id and pid != project_id:
                    continue
                for function, trigger in state.service("functiongraph").functions_with_trigger(kind):
                    data = trigger["event_data"]
                    topics = (data.get("topic_ids") or []) if kind == "KAFKA" else [data.get("exchange_name")]
                    if name not in topics or (instance_id and data.get("instance_id") != instance_id):
                        continue
                    found.append(
                        {
                            "trigger_id": trigger["trigger_id"],
                            "project_id": pid,
                            "function": function.name,
                            "instance_id": data.get("instance_id") or "",
                            "batch_size": max(1, int(data.get("batch_size") or 100)),
                        }
                    )
        return found

    def publish(
        self,
        kind: str,
        name: str,
        messages: list[str],
        *,
        instance_id: str | None = None,
        project_id: str | None = None,
    ) -> dict:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}")
        triggers = self._matching_triggers(kind, name, instance_id, project_id)
        now = time.time()
        start = []
        with self._lock:
            topic = self._topics.setdefault((kind, name), _Topic(kind, name))
            first = len(topic.messages)
            for text in messages:
                topic.messages.append(
                    {
                        "offset": len(topic.messages),
                        "message": text,
                        "instance_id": instance_id or "",
                        "published_at": now,
                    }
                )
            for trigger in triggers:
                consumer = topic.consumers.get(trigger["trigger_id"])
                if consumer is None:
                    consumer = _Consumer(
                        trigger["trigger_id"],
                        trigger["project_id"],
                        trigger["function"],
                        kind,
                        name,
                        trigger["instance_id"],
                        trigger["batch_size"],
                        offset=first,
                    )
                    topic.consumers[trigger["trigger_id"]] = consumer
                consumer.batch_size = trigger["batch_size"]
                if not consumer.running and consumer.offset < len(topic.messages):
                    consumer.running = True
                    start.append((topic, consumer))
        for topic, consumer in start:
            self.runtime.spawn(self._consume, topic, consumer)
        return {
            "kind": kind,
            KINDS[kind]: name,
            "first_offset": first,
            "count": len(messages),
            "triggers": [{k: t[k] for k in ("project_id", "function", "trigger_id", "batch_size")} for t in triggers],
        }

    # ---- delivery ---------------------------------------------------------------------------------
    def _consume(self, topic: _Topic, consumer: _Consumer) -> None:
        runtime, backend = self.runtime, self.runtime.backend
        while True:
            with self._lock:
                if self._topics.get((topic.kind, topic.name)) is not topic:
                    consumer.running = False
                    return  # reset since
                batch = topic.messages[consumer.offset : consumer.offset + consumer.batch_size]
                if not batch:
                    consumer.running = False
                    return
                first = consumer.offset
                consumer.offset += len(batch)
            envelope = {
                "event_version": "v1.0",
                "event_time": int(time.time()),
                "trigger_type": consumer.trigger_type,
                "region": backend.region,
                "instance_id": consumer.instance_id,
                "records": [{"messages": [m["message"] for m in batch], "topic_id": topic.name}],
            }
            with backend.lock:
                state = backend.project(consumer.project_id)
                model = state.service("functiongraph") if state else None
                function = model.functions.get(consumer.function) if model else None
                trigger = function.triggers.get(consumer.trigger_id) if function else None
                invocation = None
                if model is not None and trigger is not None and trigger["trigger_status"] == "ACTIVE":
                    invocation = model.receive(
                        function, envelope, "async", source=f"trigger:{consumer.trigger_type}:{consumer.trigger_id}"
                    )
            entry = {
                "request_id": invocation.request_id if invocation else None,
                "first_offset": first,
                "count": len(batch),
                "status": "running" if invocation else "dropped (trigger gone)",
            }
            with self._lock:
                consumer.batches.append(entry)
            if invocation is None:
                continue
            record = runtime.run_async(invocation)
            with self._lock:
                consumer.delivered += len(batch)
                entry["status"] = (record or {}).get("async", {}).get("outcome", "abandoned")

    # ---- inspection ---------------------------------------------------------------------------------
    def backlog(self) -> int:
        with self._lock:
            return sum(
                len(t.messages) - c.offset + (1 if c.running else 0)
                for t in self._topics.values()
                for c in t.consumers.values()
            )

    def describe(self, with_messages: bool = False) -> list[dict]:
        with self._lock:
            topics = []
            for topic in self._topics.values():
                entry: dict[str, Any] = {
                    "kind": topic.kind,
                    "name": topic.name,
                    "messages": len(topic.messages),
                    "consumers": [
                        {
                            "trigger_id": c.trigger_id,
                            "project_id": c.project_id,
                            "function": c.function,
                            "batch_size": c.batch_size,
                            "next_offset": c.offset,
                            "delivered": c.delivered,
                            "pending": len(topic.messages) - c.offset,
                            "batches": list(map(dict, c.batches)),
                        }
                        for c in topic.consumers.values()
                    ],
                }
                if with_messages:
                    entry["log"] = [dict(m) for m in topic.messages]
                topics.append(entry)
            return topics
