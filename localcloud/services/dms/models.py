"""The DMS for Kafka model of one project: instances and their topics.

Fields from the SDK 3.1.219 models ``ShowInstanceResponse`` (a subset: ``instance_id``, ``name``,
``engine`` "kafka", ``engine_version``, ``status``, ``connect_address``, ``port``...),
``CreateInstanceTopicReq`` (``id`` = the topic name, ``partition`` 1..200, ``replication`` 1..3,
``sync_replication``, ``retention_time`` hours) and ``ListInstanceTopicsResponse`` / ``TopicEntity``.
A topic name is 3..200 characters of letters, digits, ``.``, ``_`` and ``-`` (the console's rule).
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
    from localcloud.core.state import ProjectState

__all__ = ["DmsModel"]

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{3,200}$")


def _int(body: dict, name: str, low: int, high: int, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise errors.invalid(f"{name} must be an integer within {low}..{high}")
    return value


class DmsModel:
    def __init__(self, project: ProjectState):
        self.project = project
        self.instances: dict[str, dict[str, Any]] = {}
        self.topics: dict[str, dict[str, dict[str, Any]]] = {}  # instance id -> name -> topic

    def to_dict(self) -> dict[str, Any]:
        return {
            "instances": copy.deepcopy(self.instances),
            "topics": {i: sorted(t) for i, t in self.topics.items()},
        }

    def add_instance(self, name: str, instance_id: str | None = None, status: str = "RUNNING") -> dict[str, Any]:
        instance_id = instance_id or str(uuid.uuid4())
        instance = {
            "instance_id": instance_id,
            "name": name,
            "engine": "kafka",
            "engine_version": "2.7",
            "status": status,
            "connect_address": "192.168.0.10,192.168.0.11,192.168.0.12",
            "port": 9092,
            "partition_num": "300",
            "ssl_enable": False,
        }
        self.instances[instance_id] = instance
        self.topics.setdefault(instance_id, {})
        return copy.deepcopy(instance)

    def instance(self, instance_id: str) -> dict[str, Any]:
        instance = self.instances.get(instance_id)
        if instance is None:
            raise errors.instance_not_found()
        return instance

    def list_topics(self, instance_id: str, offset: int, limit: int) -> dict[str, Any]:
        self.instance(instance_id)
        topics = sorted(self.topics[instance_id].values(), key=lambda t: t["name"])
        page = topics[offset : offset + limit]
        used = sum(t["partition"] for t in topics)
        return {
            "total": len(topics),
            "size": len(page),
            "remain_partitions": 300 - used,
            "max_partitions": 300,
            "topic_max_partitions": 200,
            "topics": copy.deepcopy(page),
        }

    def create_topic(self, instance_id: str, body: object) -> dict[str, Any]:
        self.instance(instance_id)
        if not isinstance(body, dict):
            raise errors.invalid("send {id, partition, replication, ...}")
        name = body.get("id")
        if not isinstance(name, str) or not _TOPIC.match(name):
            raise errors.invalid("id must be 3 to 200 letters, digits, '.', '_' or '-'")
        if name in self.topics[instance_id]:
            raise errors.topic_exists(name)
        topic = {
            "name": name,
            "partition": _int(body, "partition", 1, 200, 3),
            "replication": _int(body, "replication", 1, 3, 3),
            "retention_time": _int(body, "retention_time", 1, 720, 72),
            "sync_replication": bool(body.get("sync_replication", False)),
            "sync_message_flush": bool(body.get("sync_message_flush", False)),
            "topic_type": 0,
            "topic_desc": str(body.get("topic_desc") or ""),
            "created_at": int(self.project.backend.clock() * 1000),
        }
        self.topics[instance_id][name] = topic
        return {"name": name}
