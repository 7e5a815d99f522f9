"""The ASGI application: HTTP routes, the WebSocket route, problem details."""
