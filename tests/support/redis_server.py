"""A real Redis server for tests (the launcher lives in ``localcloud.redis_server``, which the demo uses too)."""

from localcloud.redis_server import RedisServer, redis_server_binary

__all__ = ["RedisServer", "redis_server_binary"]
