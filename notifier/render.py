"""Rendering the subject, plain-text and HTML parts of an away email.

Two content shapes, one per mode, so a redacted email *cannot* be given a
name or a text by mistake: :class:`RedactedContent` has no field for them.
HTML templates autoescape; the subject goes through :func:`one_line`, which
removes every line break and control character (no header injection).
``off`` renders nothing: the gate never calls this module for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import jinja2

__all__ = [
    "FullContent",
    "MessageLine",
    "RedactedContent",
    "Rendered",
    "one_line",
    "render_full",
    "render_redacted",
]

REDACTED_SUBJECT = "You have a new secure message"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]+")
_SPACES = re.compile(r"\s+")


def one_line(value: str, limit: int = 120) -> str:
    """``value`` safe for a header: no CR/LF or control characters, one line."""
    flat = _SPACES.sub(" ", _CONTROL.sub(" ", value)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class MessageLine:
    sender_name: str
    text: str
    sent_at: datetime


@dataclass(frozen=True)
class FullContent:
    """Everything a ``full`` email shows."""

    recipient_name: str
    subject_type: str
    subject_id: str
    title: str | None
    messages: list[MessageLine]
    open_url: str
    unsubscribe_url: str


@dataclass(frozen=True)
class RedactedContent:
    """All a ``redacted`` email may carry: opaque links, nothing else."""

    open_url: str
    unsubscribe_url: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # HTML templates escape everything they are given; text templates are plain text.
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html",), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(name: str, **context: object) -> tuple[str, str]:
    text = _environment().get_template(f"{name}.txt").render(**context)
    html = _environment().get_template(f"{name}.html").render(**context)
    return text, html


def _names(messages: list[MessageLine]) -> str:
    names = list(dict.fromkeys(one_line(m.sender_name, 40) for m in messages))
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]}, {names[1]} and {len(names) - 2} more"


def render_full(content: FullContent) -> Rendered:
    count = len(content.messages)
    noun = "new message" if count == 1 else "new messages"
    reference = f"{content.subject_type} #{content.subject_id}"
    subject = one_line(f"{count} {noun} from {_names(content.messages)} about {reference}", 200)
    preheader = one_line(content.messages[-1].text, 90) if content.messages else ""
    text, html = _render(
        "away_full",
        c=content,
        count=count,
        noun=noun,
        reference=reference,
        subject=subject,
        preheader=preheader,
    )
    return Rendered(subject=subject, text=text, html=html)


def render_redacted(content: RedactedContent) -> Rendered:
    text, html = _render("away_redacted", c=content, subject=REDACTED_SUBJECT)
    return Rendered(subject=REDACTED_SUBJECT, text=text, html=html)
