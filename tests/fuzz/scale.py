"""``FUZZ_SCALE``: one knob that multiplies the number of cases of every fuzz
class (REST, WebSocket frames, images, inbound email) for a longer campaign,
e.g. ``FUZZ_SCALE=20 pytest tests/fuzz tests/hub/test_protocol.py ...``.
CI leaves it unset (1): the counts documented in bench/README.md."""

from __future__ import annotations

import os


def scale() -> int:
    return max(1, int(os.environ.get("FUZZ_SCALE", "1")))


def scaled(cases: int) -> int:
    return cases * scale()
