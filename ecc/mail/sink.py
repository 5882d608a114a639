"""``ecc mail-sink``: a local SMTP server for the demo that keeps every message it is
given as files people can open — ``<n>-<subject>.eml`` (the whole message) and, for a
message with an HTML part, ``<n>-<subject>.html`` — and sends nothing on.

Only for a demo or a test bench: it listens on 127.0.0.1 and accepts any sender and
recipient.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import logging
import re
import signal
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ..paths import safe_name

log = logging.getLogger("ecc.mail")


def _slug(text: str) -> str:
    return safe_name(text.replace(".", "-"), limit=60, empty="message")


class FolderHandler:
    """aiosmtpd handler writing each message into ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        taken = [
            int(m.group(1)) for p in folder.glob("*.eml") if (m := re.match(r"(\d+)-", p.name))
        ]
        self.numbers = itertools.count(max(taken, default=0) + 1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.content)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        subject = str(msg.get("Subject", ""))
        with self.lock:
            stem = f"{next(self.numbers):04d}-{_slug(subject)}"
        (self.folder / f"{stem}.eml").write_bytes(raw)
        if isinstance(msg, EmailMessage):
            part = msg.get_body(("html",))
            if part is not None:
                (self.folder / f"{stem}.html").write_text(part.get_content(), encoding="utf-8")
        log.info("mail to %s: %s -> %s", ", ".join(envelope.rcpt_tos), subject, stem)
        return "250 OK"


def serve(port: int, folder: Path) -> None:
    """Run until SIGTERM or Ctrl-C."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection lines
    controller = Controller(FolderHandler(folder), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"mail sink: smtp://127.0.0.1:{port} -> {folder}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
