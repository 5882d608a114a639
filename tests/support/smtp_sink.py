"""A real SMTP server for tests: aiosmtpd on a free port of 127.0.0.1, keeping what it
receives; it can be stopped and started again on the same port.

``SmtpSink.down()`` is a server that is not up yet: its port is held by a socket that
does not listen, so a connection is refused (and no kernel or other test can take the
port) until ``start()``."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.servers import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes
    authenticated: bool = False

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class SmtpSink:
    """``with SmtpSink() as sink:`` — ``sink.url`` for ECC_SMTP_URL, ``sink.received``."""

    port: int = field(default_factory=free_port)
    delay: float = 0.0  # seconds to wait before accepting each message
    refuse: set[str] = field(default_factory=set)  # recipients to refuse (550)
    drop_after_data: bool = False  # take the message, then hang up before answering
    login: tuple[str, str] | None = None  # the user and password AUTH accepts
    received: list[Received] = field(default_factory=list)
    controller: Controller | None = None
    placeholder: socket.socket | None = None

    @classmethod
    def down(cls) -> SmtpSink:
        """A sink whose port refuses connections until it is started."""
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        return cls(port=int(held.getsockname()[1]), placeholder=held)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                bytes(envelope.content),
                bool(session.authenticated),
            )
        )
        if self.drop_after_data:
            server.transport.close()
        return "250 OK"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            self.login is not None
            and isinstance(data, LoginPassword)
            and (data.login.decode(), data.password.decode()) == self.login
        )
        return AuthResult(success=ok, handled=False)

    def _release(self) -> None:
        if self.placeholder is not None:
            self.placeholder.close()
            self.placeholder = None

    def start(self) -> SmtpSink:
        self._release()
        options: dict[str, Any] = {}
        if self.login is not None:
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)
        self.controller.start()
        return self

    def stop(self) -> None:
        self._release()
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
