"""Real-looking replies from Gmail, Outlook and Apple Mail, and what must remain.

Each sample is ``(name, body, expected)``: the plain-text body a mail client
writes when a seller answers an away email, and the reply text alone.
"""

from __future__ import annotations

REPLY = "Yes, we can do 40 units at $12 with freight to Denver.\nI will update the quote today."

GMAIL = f"""{REPLY}

Best,
Sam

On Wed, Nov 25, 2026 at 2:00 PM Marketplace <notify@shop.test> wrote:

> Brenda Buyer wrote about order #1042:
> Can you do 40 units at $12 with freight to Denver?
>
> Open the chat: http://127.0.0.1:8000/v1/open?token=abc
"""

GMAIL_SIGNATURE = f"""{REPLY}

--\u0020
Sam Seller | Walnut & Co.
+1 555 0100

On Wed, Nov 25, 2026 at 2:00 PM Marketplace <notify@shop.test> wrote:
> Can you do 40 units at $12 with freight to Denver?
"""

OUTLOOK = f"""{REPLY}

-----Original Message-----
From: Marketplace <notify@shop.test>
Sent: Wednesday, November 25, 2026 2:00 PM
To: Sam Seller <s@mail.test>
Subject: 1 new message about order #1042

Brenda Buyer wrote:
Can you do 40 units at $12 with freight to Denver?
"""

OUTLOOK_HEADERS = f"""{REPLY}

________________________________
From: Marketplace <notify@shop.test>
Sent: Wednesday, November 25, 2026 14:00
To: Sam Seller <s@mail.test>
Subject: 1 new message about order #1042

Can you do 40 units at $12 with freight to Denver?
"""

APPLE = f"""{REPLY}

Sent from my iPhone

> On 25 Nov 2026, at 14:00, Marketplace <notify@shop.test> wrote:
>
> Can you do 40 units at $12 with freight to Denver?
"""

APPLE_DESKTOP = f"""{REPLY}

On 25 Nov 2026, at 14:00, Marketplace <notify@shop.test> wrote:

Can you do 40 units at $12 with freight to Denver?
Open the chat: http://127.0.0.1:8000/v1/open?token=abc
"""

SAMPLES: list[tuple[str, str, str]] = [
    ("gmail", GMAIL, REPLY),
    ("gmail-signature", GMAIL_SIGNATURE, REPLY),
    ("outlook-original-message", OUTLOOK, REPLY),
    ("outlook-from-sent", OUTLOOK_HEADERS, REPLY),
    ("apple-iphone", APPLE, REPLY),
    ("apple-desktop", APPLE_DESKTOP, REPLY),
]


# -- malformed inbound emails (issue 8, scope 5) -----------------------------

_HEAD = b"From: Sam <s@mail.test>\r\nMessage-ID: <m-{n}@mail.test>\r\nSubject: Re: order\r\n"


def _nested(depth: int) -> bytes:
    body = b"Content-Type: text/plain\r\n\r\nDeep reply\r\n"
    for level in range(depth):
        boundary = f"b{level}".encode()
        body = (
            b'Content-Type: multipart/mixed; boundary="'
            + boundary
            + b'"\r\n\r\n--'
            + boundary
            + b"\r\n"
            + body
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )
    return body


def _mail(n: int, rest: bytes) -> bytes:
    return _HEAD.replace(b"{n}", str(n).encode()) + rest


MALFORMED: list[tuple[str, bytes]] = [
    ("empty", b""),
    ("only-crlf", b"\r\n\r\n"),
    ("no-headers", b"just some text without headers\r\n"),
    ("binary-garbage", bytes(range(256)) * 8),
    ("nul-bytes", _mail(1, b"\r\nhello\x00world\x00\r\n")),
    ("header-cut-mid-line", b"From: Sam <s@mail.te"),
    (
        "truncated-multipart",
        _mail(
            2,
            b'Content-Type: multipart/alternative; boundary="zz"\r\n\r\n'
            b"--zz\r\nContent-Type: text/plain\r\n\r\nHalf a rep",
        ),
    ),
    ("multipart-without-boundary", _mail(3, b"Content-Type: multipart/mixed\r\n\r\nbody\r\n")),
    ("boundary-never-used", _mail(4, b'Content-Type: multipart/mixed; boundary="q"\r\n\r\nx\r\n')),
    (
        "bad-base64",
        _mail(
            5,
            b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64"
            b"\r\n\r\n!!!not base64***\r\n",
        ),
    ),
    (
        "bad-quoted-printable",
        _mail(6, b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=4=\r\nsoft=\r\n"),
    ),
    ("unknown-transfer-encoding", _mail(7, b"Content-Transfer-Encoding: x-rot13\r\n\r\nuryyb\r\n")),
    (
        "invalid-utf8-body",
        _mail(8, b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xff\xfe\xc3(\r\n"),
    ),
    (
        "unknown-charset",
        _mail(9, b"Content-Type: text/plain; charset=x-no-such-charset\r\n\r\nhi\r\n"),
    ),
    (
        "charset-with-junk",
        _mail(10, b'Content-Type: text/plain; charset="utf-8\x00\xff"\r\n\r\nhi\r\n'),
    ),
    ("utf7-junk", _mail(11, b"Content-Type: text/plain; charset=utf-7\r\n\r\n+AGEA-+ZZZ-\xff\r\n")),
    (
        "encoded-word-unknown-charset",
        b"From: =?x-bogus?B?U2Ft?= <s@mail.test>\r\nSubject: =?utf-8?Q?=FF=FE?=\r\n\r\nhello\r\n",
    ),
    (
        "encoded-word-bad-base64",
        b"From: Sam <s@mail.test>\r\nSubject: =?utf-8?B?@@@?=\r\n\r\nhi\r\n",
    ),
    ("8bit-headers", b"From: S\xe4m \xff <s@mail.test>\r\nSubject: \xff\xfe\r\n\r\nhi\r\n"),
    ("huge-header-line", _mail(12, b"X-Long: " + b"a" * 60_000 + b"\r\n\r\nhi\r\n")),
    ("many-headers", _mail(13, b"".join(b"X-H%d: v\r\n" % i for i in range(2000)) + b"\r\nhi\r\n")),
    ("folded-forever", _mail(14, b"X-Fold: a\r\n" + b" b\r\n" * 5000 + b"\r\nhi\r\n")),
    ("two-from-addresses", b"From: a@mail.test, s@mail.test\r\n\r\nhi\r\n"),
    ("from-group-syntax", b"From: undisclosed-recipients:;\r\n\r\nhi\r\n"),
    ("from-unparseable", b"From: <<<@@@>>>\r\n\r\nhi\r\n"),
    ("nested-5", _mail(15, _nested(5))),
    ("nested-60", _mail(16, _nested(60))),
    ("nested-400", _mail(17, _nested(400))),
    (
        "message-rfc822-loop",
        _mail(18, b"Content-Type: message/rfc822\r\n\r\n" + _HEAD * 3 + b"\r\nx"),
    ),
    ("content-type-garbage", _mail(19, b"Content-Type: ;;;===/\x01\r\n\r\nhi\r\n")),
    (
        "html-only-bad-markup",
        _mail(
            20,
            b"Content-Type: text/html\r\n\r\n<div<<script>x</scr"
            b"ipt><!--unclosed <p>Hi &bogus; &#xFFFFFFFF;\r\n",
        ),
    ),
    ("lf-only-line-ends", b"From: Sam <s@mail.test>\nMessage-ID: <lf@mail.test>\n\nhello\n"),
    ("cr-only-line-ends", b"From: Sam <s@mail.test>\rMessage-ID: <cr@mail.test>\r\rhello\r"),
    ("header-without-colon", b"From Sam s@mail.test\r\nNot a header\r\n\r\nhi\r\n"),
    ("duplicate-message-id", _mail(21, b"Message-ID: <other@x>\r\n\r\nhi\r\n")),
    (
        "very-long-message-id",
        b"Message-ID: <" + b"m" * 5000 + b"@x>\r\nFrom: s@mail.test\r\n\r\nhi\r\n",
    ),
]
