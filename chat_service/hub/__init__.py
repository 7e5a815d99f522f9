"""The real-time hub: the WebSocket protocol, live connections, fan-out.

``protocol`` is sans-I/O (parsing and validating frames, building replies);
``connection`` owns one socket's send queue and subscriptions; ``fanout``
bridges processes through Redis pub/sub; ``presence`` and ``ratelimit`` keep
their state in Redis; ``endpoint`` is the thin ASGI handler.
"""
