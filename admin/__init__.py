"""The compliance and operator console (its own ASGI app); nothing imports it."""
