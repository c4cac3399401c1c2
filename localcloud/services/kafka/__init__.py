"""DMS for Kafka's message API (``huaweicloudsdkkafka``): producing a message to a topic over HTTPS.

Only ``SendKafkaMessage`` (what ``sgguard submit --via dms`` calls): the message goes to the
runtime's broker (:mod:`localcloud.runtime.dms`), so every KAFKA trigger reading the topic receives
it, as a producer's message would. Instances and topics themselves are not modelled here.
"""

from __future__ import annotations

from .routes import router

__all__ = ["ROUTERS"]

ROUTERS = [router]
