"""Prometheus metrics of one process, on a registry of its own (so tests can
build several apps in one interpreter)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

__all__ = ["Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.connections = Gauge(
            "chat_ws_connections",
            "Open authenticated WebSocket connections",
            registry=self.registry,
        )
        self.rooms = Gauge(
            "chat_ws_rooms",
            "Conversations with live subscribers in this process",
            registry=self.registry,
        )
        self.messages_stored = Counter(
            "chat_messages_stored", "Messages stored from WebSocket sends", registry=self.registry
        )
        self.frames_rejected = Counter(
            "chat_ws_frames_rejected",
            "Client frames refused, by error code",
            ["code"],
            registry=self.registry,
        )
        self.handshakes_rejected = Counter(
            "chat_ws_handshakes_rejected",
            "WebSocket handshakes refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.http_errors = Counter(
            "chat_http_errors",
            "HTTP requests answered with an error, by code",
            ["code"],
            registry=self.registry,
        )

        self.away_notifications = Gauge(
            "chat_away_notifications",
            "Away-email notifications by state (overdue: pending past their due time)",
            ["state"],
            registry=self.registry,
        )

    def set_away_notifications(self, counts: dict[str, int]) -> None:
        for state, count in counts.items():
            self.away_notifications.labels(state=state).set(count)

    def bind_gauges(self, connections: Callable[[], int], rooms: Callable[[], int]) -> None:
        self.connections.set_function(lambda: float(connections()))
        self.rooms.set_function(lambda: float(rooms()))

    def render(self) -> bytes:
        return generate_latest(self.registry)
