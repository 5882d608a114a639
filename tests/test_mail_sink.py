"""The demo's mail sink (`ecc mail-sink`): a real SMTP server that keeps each message
as an .eml file and its HTML part as an .html file people can open."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import time
from email.message import EmailMessage
from pathlib import Path

from tests.support.cli import ECC
from tests.support.servers import free_port


def test_the_sink_keeps_each_message_as_files(tmp_path: Path) -> None:
    port, folder = free_port(), tmp_path / "mail"
    proc = subprocess.Popen(
        [*ECC, "mail-sink", "--port", str(port), "--dir", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        with smtp:
            for n in (1, 2):
                msg = EmailMessage()
                msg["From"], msg["To"] = "ecc@example.com", "vp@example.com"
                msg["Subject"] = f"Daily alert digest #{n}"
                msg.set_content(f"plain {n}")
                msg.add_alternative(f"<p>html {n}</p>", subtype="html")
                smtp.send_message(msg)
        names = sorted(p.name for p in folder.iterdir())
        assert names == [
            "0001-Daily-alert-digest-1.eml",
            "0001-Daily-alert-digest-1.html",
            "0002-Daily-alert-digest-2.eml",
            "0002-Daily-alert-digest-2.html",
        ]
        assert (folder / "0002-Daily-alert-digest-2.html").read_text() == "<p>html 2</p>\n"
        assert b"plain 1" in (folder / "0001-Daily-alert-digest-1.eml").read_bytes()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert f"mail sink: smtp://127.0.0.1:{port}" in out
