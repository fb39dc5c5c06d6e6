"""Django's Redis cache, with one Redis client per connection pool instead of one per operation.

Django's ``RedisCacheClient`` makes a new ``redis.Redis`` for every get and set; with redis-py 8 that object's set-up
(its table of response callbacks) costs more than the round trip it wraps. A client is safe to share between
threads and keeps using its pool's connections, so one is made per pool and kept (docs/decisions.md, "A reader's
pages from the cache").
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusedClient(RedisCacheClient):
    """Django's client of the Redis servers, keeping the ``redis.Redis`` it makes for each server's pool."""

    def __init__(self, servers, **options) -> None:
        super().__init__(servers, **options)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        """Return the kept client of the pool this operation goes to (made on first use)."""
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class ReusedClientRedisCache(RedisCache):
    """Django's ``RedisCache`` (same settings, same errors) over :class:`ReusedClient`."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusedClient
