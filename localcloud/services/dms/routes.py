"""DMS for Kafka management routes (paths from ``huaweicloudsdkkafka/v2/kafka_client.py``'s
``_show_instance_http_info``, ``_list_instance_topics_http_info``, ``_create_instance_topic_http_info``):

``GET /v2/{project_id}/instances/{instance_id}`` -> 200 the instance (ShowInstance);
``GET /v2/{project_id}/instances/{instance_id}/topics?offset=&limit=`` -> 200 ``{"total", "size",
"topics": [...], ...}`` (ListInstanceTopics);
``POST /v2/{project_id}/instances/{instance_id}/topics`` ``{"id", "partition", "replication", ...}``
-> 200 ``{"name"}`` (CreateInstanceTopic). Errors: ``{"error_code", "error_msg"}``.
"""

from __future__ import annotations

import copy

from localcloud.core.routing import ApiContext, Router

__all__ = ["router"]

router = Router("dms", "fgs")  # the same {"error_code", "error_msg"} body as FunctionGraph's


@router.route("GET", "/v2/{project_id}/instances/{instance_id}")
def show_instance(ctx: ApiContext):
    return 200, copy.deepcopy(ctx.project.service("dms").instance(ctx.params["instance_id"]))


@router.route("GET", "/v2/{project_id}/instances/{instance_id}/topics")
def list_instance_topics(ctx: ApiContext):
    offset = ctx.int_arg("offset", 0, "DMS.00400005")
    limit = ctx.int_arg("limit", 10, "DMS.00400005")
    return 200, ctx.project.service("dms").list_topics(ctx.params["instance_id"], max(offset, 0), max(1, limit))


@router.route("POST", "/v2/{project_id}/instances/{instance_id}/topics")
def create_instance_topic(ctx: ApiContext):
    return 200, ctx.project.service("dms").create_topic(ctx.params["instance_id"], ctx.json("DMS.00400005"))
