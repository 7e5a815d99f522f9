"""The ``chat-service`` command."""
