"""localcloud's DMS for Kafka message API (``SendKafkaMessage``) through the official SDK: the
documented path and body, and DMS's own error body for what it refuses (docs/fidelity.md)."""

from __future__ import annotations

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkkafka.v2 import KafkaClient, SendKafkaMessageRequest, SendKafkaMessageRequestBody

from sgguard_cli.localenv import sdk_client

INSTANCE = "5c0a7f3e-9d41-4b2a-8e6f-10ca1c10c0d1"


@pytest.fixture
def kafka(cloud):
    return sdk_client(KafkaClient, cloud.url, cloud.ak, cloud.sk, cloud.project_id)


def _send(client, body, action_id="send"):
    return client.send_kafka_message(SendKafkaMessageRequest(instance_id=INSTANCE, action_id=action_id, body=body))


def test_a_message_is_produced_and_echoed(kafka):
    body = SendKafkaMessageRequestBody(topic="sg-change-requests", body='{"request_id": "x"}', property_list=[])
    response = _send(kafka, body)
    assert response.topic == "sg-change-requests" and response.body == '{"request_id": "x"}'


@pytest.mark.parametrize(
    "body, action_id, words",
    [
        (SendKafkaMessageRequestBody(topic="t", body="m"), "send", "property_list"),
        (SendKafkaMessageRequestBody(body="m", property_list=[]), "send", "topic is required"),
        (SendKafkaMessageRequestBody(topic="t", body="m", property_list=[]), "consume", "action_id must be send"),
    ],
)
def test_what_dms_refuses_is_its_own_400(kafka, body, action_id, words):
    with pytest.raises(ClientRequestException) as caught:
        _send(kafka, body, action_id)
    assert caught.value.status_code == 400 and caught.value.error_code == "DMS.00400005"
    assert words in caught.value.error_msg
