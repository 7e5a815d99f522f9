"""From raw RFC 822 bytes to the few headers the checks need and the reply text.

Pure and bounded: the size is checked before parsing, the MIME tree is walked
(iteratively) only down to ``max_depth`` levels and ``max_parts`` parts, the
quote stripper sees at most ``max_text_chars``. Anything the ``email`` package
cannot make sense of is :class:`~notifier.inbound.errors.Refused` with
``malformed``; no other exception leaves :func:`parse_inbound`.

Text: the first ``text/plain`` part that is not an attachment; otherwise the
first ``text/html`` part, sanitised to text with ``nh3`` (every tag dropped,
``script``/``style`` with their content) and unescaped once. Unknown or
invalid charsets decode as UTF-8 with replacement characters.

Quoted history and signatures: ``mail-parser-reply`` (see
``docs/reply-by-email.md`` for the comparison with ``quotequail``).
"""

from __future__ import annotations

import codecs
import email.errors
import html
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses

import nh3
from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]

from notifier.inbound.errors import Refused

__all__ = ["ParseLimits", "ParsedMail", "parse_inbound", "strip_reply"]

_BLOCK_END = re.compile(r"(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>")
_BLANK_RUNS = re.compile(r"\n{3,}")
# Counted before parsing: the parser's time grows faster than linearly with
# nesting, so a deep tree is refused before it is built.
_MULTIPART_HEADER = re.compile(rb"(?im)^content-type:\s*multipart/")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MAX_HEADER_CHARS = 2000


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = 2 * 1024 * 1024
    max_parts: int = 50
    max_depth: int = 5
    max_headers: int = 300
    max_text_chars: int = 100_000


# Photos taken from one reply; a marketplace policy may allow fewer per message.
MAX_IMAGES = 10


@dataclass(frozen=True)
class ParsedMail:
    from_address: str | None  # the single address in From, else None
    message_id: str | None
    in_reply_to: str | None
    subject: str
    headers: dict[str, str]  # lowercased names, first value, decoded, one line
    content_type: str
    text: str  # the whole body text, before stripping
    attachments: int  # parts that are attachments
    # The bytes of attached images (declared image/*), at most MAX_IMAGES; the
    # attachments pipeline decides from the bytes whether each really is one.
    images: tuple[bytes, ...] = ()


def _header(message: Message, name: str) -> str | None:
    value = message.get(name)
    if value is None:
        return None
    try:
        text = str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError, email.errors.HeaderParseError):
        text = str(value)
    return " ".join(text.split())[:_MAX_HEADER_CHARS]


def _parts(message: Message, limits: ParseLimits) -> list[Message]:
    """Every leaf part, depth-first, within the limits."""
    leaves: list[Message] = []
    seen = 0
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > limits.max_parts:
            raise Refused("too_many_parts")
        if depth > limits.max_depth:
            raise Refused("too_deep")
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend((c, depth + 1) for c in reversed(payload) if isinstance(c, Message))
        else:
            leaves.append(part)
    return leaves


def _decoded(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except (LookupError, ValueError):
        charset = "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except (LookupError, UnicodeError, ValueError):
        return raw.decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    """Visible text of ``markup``: line breaks kept, every tag and script gone."""
    marked = _BLOCK_END.sub("\n", markup)
    cleaned = nh3.clean(marked, tags=set(), attributes={}, strip_comments=True)
    return html.unescape(cleaned)


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or bool(part.get_filename())


def parse_inbound(raw: bytes, limits: ParseLimits) -> ParsedMail:
    if len(raw) > limits.max_bytes:
        raise Refused("too_large")
    if len(_MULTIPART_HEADER.findall(raw)) > limits.max_parts:
        raise Refused("too_many_parts")
    try:
        message = BytesParser(policy=compat32).parsebytes(raw)
        if len(message.keys()) > limits.max_headers:
            raise Refused("too_many_headers")
        leaves = _parts(message, limits)
        plain = html_part = None
        attachments = 0
        images: list[bytes] = []
        for part in leaves:
            if _is_attachment(part):
                attachments += 1
                payload = part.get_payload(decode=True)
                if (
                    part.get_content_maintype() == "image"
                    and isinstance(payload, bytes)
                    and payload
                    and len(images) < MAX_IMAGES
                ):
                    images.append(payload)
                continue
            kind = part.get_content_type()
            if kind == "text/plain" and plain is None:
                plain = part
            elif kind == "text/html" and html_part is None:
                html_part = part
        if plain is not None:
            text = _decoded(plain)
        elif html_part is not None:
            text = html_to_text(_decoded(html_part))
        else:
            text = ""
        headers = {
            name.lower(): _header(message, name) or "" for name in dict.fromkeys(message.keys())
        }
        addresses = [a for _, a in getaddresses([headers.get("from", "")]) if a]
    except Refused:
        raise
    except (
        email.errors.MessageError,
        LookupError,
        UnicodeError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        RecursionError,
    ):
        raise Refused("malformed") from None
    return ParsedMail(
        from_address=addresses[0] if len(addresses) == 1 else None,
        message_id=headers.get("message-id") or None,
        in_reply_to=headers.get("in-reply-to") or None,
        subject=headers.get("subject", ""),
        headers=headers,
        content_type=message.get_content_type(),
        text=text.replace("\r\n", "\n").replace("\r", "\n"),
        attachments=attachments,
        images=tuple(images),
    )


def strip_reply(text: str, *, max_chars: int = 100_000) -> str:
    """The new text of a reply: quoted history, attribution lines
    ("On ... wrote:", "-----Original Message-----", "From: ... Sent: ...")
    and signatures ("-- ", "Sent from my iPhone") removed."""
    text = _CONTROL.sub("", text[:max_chars])
    parsed = EmailReplyParser(languages=["en"]).read(text)
    # The first part is the new text only when it has no attribution header;
    # otherwise the reply added nothing above the quote.
    first = parsed.replies[0] if parsed.replies else None
    body = "" if first is None or first.headers.strip() else first.body
    lines = [line.rstrip() for line in body.strip().split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
