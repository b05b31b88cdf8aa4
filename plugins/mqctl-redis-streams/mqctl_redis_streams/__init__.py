"""Redis Streams backend for mqctl (entry point ``mqctl.backends: redis-streams``).

Cheap to import: the ``redis`` client library is imported only when a command talks to Redis.
"""

from mqctl_redis_streams.backend import RedisStreamsBackend

__all__ = ["RedisStreamsBackend"]
