"""The AIMD limit shared per (account, region, service) in Redis (:class:`shared.cloud.limiter.SharedLimit`).

One hash per key, ``sgguard:limit:<account>:<region>:<service>`` = ``{limit, epoch}``, beside the
idempotency store (same Redis, same client). Each method is one round trip, a Lua script, so
that a read-modify-write is atomic across instances:

- ``load``: the hash as it is (created at ``maximum``, epoch 0, when absent);
- ``decrease``: halves the limit (never below ``minimum``) and bumps the epoch **only if** the
  epoch is still the one the caller last saw: N instances throttled in the same round halve it
  once;
- ``increase``: one more, up to ``maximum``.

Every write renews the key's expiry (:data:`LIMIT_TTL_S`): a limit nobody moved for that long
is forgotten and the next caller starts from its maximum again. A Redis error raises (the
limiter then goes on locally, see :mod:`shared.cloud.limiter`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["RedisSharedLimit", "shared_limit_key", "LIMIT_TTL_S"]

LIMIT_TTL_S = 3600

# KEYS[1] the hash; ARGV[1] op (load|decrease|increase), ARGV[2] seen epoch, ARGV[3] minimum,
# ARGV[4] maximum, ARGV[5] ttl ms. -> {limit, epoch}
_SCRIPT = """
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit') or ARGV[4])
local epoch = tonumber(redis.call('HGET', KEYS[1], 'epoch') or '0')
local op = ARGV[1]
local seen = tonumber(ARGV[2])
if op == 'decrease' and (seen == epoch or seen == -1) then
  limit = math.max(tonumber(ARGV[3]), math.floor(limit / 2))
  epoch = epoch + 1
elseif op == 'increase' then
  limit = math.min(tonumber(ARGV[4]), limit + 1)
end
redis.call('HSET', KEYS[1], 'limit', limit, 'epoch', epoch)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {limit, epoch}
"""


def shared_limit_key(account: str, region: str, service: str) -> str:
    return f"sgguard:limit:{account}:{region}:{service}"


class RedisSharedLimit:
    """One (account, region, service)'s limit, shared by every instance."""

    def __init__(self, client: Any, account: str, region: str, service: str, *, ttl_s: float = LIMIT_TTL_S) -> None:
        self.key = shared_limit_key(account, region, service)
        self._ttl_ms = str(max(1000, int(ttl_s * 1000)))
        self._script = client.register_script(_SCRIPT)

    def _run(self, op: str, seen: int, minimum: int, maximum: int) -> tuple[int, int]:
        limit, epoch = self._script(keys=[self.key], args=[op, seen, minimum, maximum, self._ttl_ms])
        return int(limit), int(epoch)

    def load(self, maximum: int) -> tuple[int, int]:
        return self._run("load", 0, 1, maximum)

    def decrease(self, seen_epoch: int, minimum: int, maximum: int) -> tuple[int, int]:
        """``seen_epoch`` -1: never loaded (halve whatever it is)."""
        return self._run("decrease", seen_epoch, minimum, maximum)

    def increase(self, maximum: int) -> tuple[int, int]:
        return self._run("increase", 0, 1, maximum)
