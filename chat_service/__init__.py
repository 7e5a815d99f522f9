"""Marketplace chat service: order- and quote-bound conversations.

Sub-packages, one per domain, each with the same files where they apply
(``schemas.py``, ``repository.py``, ``service.py``, ``endpoints.py``):

* ``tenants``        marketplaces, their signing secrets, origins, server keys
* ``auth``           user tokens (JWT) and server credentials
* ``crypto``         envelope encryption of message text and e-mail addresses
* ``conversations``  conversations, participants, messages, read state
* ``hub``            the WebSocket protocol, connections and Redis fan-out
* ``api``            the ASGI app: routes, problem details, health, metrics
* ``embedded``       the child-process Redis and store used by ``dev`` and tests
* ``cli``            the ``chat-service`` command
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
