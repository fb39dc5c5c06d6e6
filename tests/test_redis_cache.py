"""The production cache keeps one Redis client per connection pool instead of making one per operation."""

from teachingfile.redis_cache import ReusedClientRedisCache


def test_every_operation_goes_through_one_kept_client_and_reaches_redis():
    cache = ReusedClientRedisCache("redis://127.0.0.1:6379/15", {"KEY_PREFIX": "test-reused-client"})
    client = cache._cache.get_client()
    cache.set("answer", "kept", 30)
    assert cache.get("answer") == "kept" and cache.get_many(["answer", "none"]) == {"answer": "kept"}
    assert cache._cache.get_client(write=True) is client and cache._cache.get_client("answer") is client
    cache.delete("answer")
    assert cache.get("answer") is None
