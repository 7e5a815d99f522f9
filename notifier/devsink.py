"""The development mail sink: an SMTP server that keeps every email as a file.

On the embedded default the notifier sends to it, so a developer can read the
away emails: each one is written to ``<directory>/<time>-<n>.eml`` (open it
with any mail client, or read it as text). Never for production: it accepts
mail for anyone from anyone.

    python -m notifier.devsink --dir .chat-data/mail --port 1025
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

__all__ = ["DevMailSink", "main"]


class _Handler:
    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._counter = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._counter):05d}.eml"
        partial = self._directory / f".{name}.part"
        partial.write_bytes(bytes(envelope.content))
        os.replace(partial, self._directory / name)  # readers never see half a file
        return "250 Message accepted"


class DevMailSink:
    def __init__(self, directory: Path, *, host: str = "127.0.0.1", port: int = 1025) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.port = port
        self._controller = Controller(_Handler(directory), hostname=host, port=port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def emails(self) -> list[Path]:
        return sorted(self.directory.glob("*.eml"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m notifier.devsink")
    parser.add_argument("--dir", type=Path, default=Path(".chat-data/mail"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    args = parser.parse_args(argv)
    sink = DevMailSink(args.dir, host=args.host, port=args.port)
    sink.start()
    print(f"mail sink on {args.host}:{args.port}, writing to {args.dir}/", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
