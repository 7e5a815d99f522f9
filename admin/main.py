"""Console entry point (``chat-admin`` console script)."""

from admin.cli import main

__all__ = ["main"]
