"""DMS for Kafka ``SendKafkaMessage``: path and body from ``huaweicloudsdkkafka/v2/kafka_client.py``
(``_send_kafka_message_http_info``, ``SendKafkaMessageRequestBody``) and the API page "Producing
Messages to Kafka".

``POST /v2/{project_id}/instances/{instance_id}/messages/action?action_id=send``
``{"topic", "body", "property_list": [{"name", "value"}]}`` -> 200 ``{"topic", "body", "property_list": []}``.
"""

from __future__ import annotations

from localcloud.core.routing import ApiContext, Router

from . import errors

__all__ = ["router"]

router = Router("kafka", "fgs")  # the "fgs" style is DMS's too: {"error_code", "error_msg"}


def _message(body: object) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise errors.body_invalid("the body must be an object")
    topic, message, properties = body.get("topic"), body.get("body"), body.get("property_list")
    if not isinstance(topic, str) or not topic:
        raise errors.body_invalid("topic is required")
    if not isinstance(message, str):
        raise errors.body_invalid("body must be a string")
    if not isinstance(properties, list) or not all(isinstance(p, dict) for p in properties):
        raise errors.body_invalid("property_list must be a list of {name, value}")
    return topic, message


@router.route("POST", "/v2/{project_id}/instances/{instance_id}/messages/action")
def send_kafka_message(ctx: ApiContext):
    if ctx.arg("action_id") != "send":
        raise errors.body_invalid("action_id must be send")
    if not ctx.raw_body:
        raise errors.body_empty()
    topic, message = _message(ctx.json("DMS.00400005"))
    runtime = getattr(ctx.backend, "_localcloud_runtime", None)
    if runtime is not None:  # without the runtime nobody consumes: the message is accepted and dropped
        runtime.broker.publish(
            "KAFKA", topic, [message], instance_id=ctx.params["instance_id"], project_id=ctx.project.project_id
        )
    return 200, {"topic": topic, "body": message, "property_list": []}
