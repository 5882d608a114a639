"""Mail settings, from the environment.

- ``ECC_SMTP_URL``: where mail goes (below); unset, the scheduler refuses to start.
- ``ECC_MAIL_FROM``: the sender of every message (default
  ``Executive Command Center <ecc@localhost>``).
- ``ECC_ADMIN_EMAILS``: comma-separated addresses told of failed runs and of mail that
  could not be delivered (unset: the scheduler's log only).

``ECC_SMTP_URL``: ``smtp://[user[:password]@]host[:port]`` (port 25 by default),
``smtp://...?starttls=true`` (upgrade with STARTTLS, typically port 587), or
``smtps://...`` (TLS from the start, port 465 by default); ``?timeout=SECONDS`` (30).
User and password are percent-decoded (``%40`` for ``@``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from .. import variables
from ..config import redact_url
from ..errors import ConfigError

DEFAULT_SENDER = variables.setting("ECC_MAIL_FROM").default
SMTP_EXAMPLE = "smtp://user:password@mail.example.com:587?starttls=true"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: bool = False  # smtps: TLS from the first byte
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def describe(self) -> str:
        """The server, without the password, for messages."""
        scheme = "smtps" if self.tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        extra = "?starttls=true" if self.starttls else ""
        return f"{scheme}://{user}{self.host}:{self.port}{extra}"


def parse_smtp_url(url: str) -> SmtpSettings:
    """``ECC_SMTP_URL`` parsed; a ConfigError names what is wrong."""

    def bad(why: str) -> ConfigError:
        shown = redact_url(url)
        return ConfigError(f"ECC_SMTP_URL {shown!r} {why}; write it like {SMTP_EXAMPLE}")

    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise bad(f"is not a URL ({exc})") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise bad("must start with smtp:// or smtps://")
    if not parts.hostname:
        raise bad("names no host")
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - {"starttls", "timeout"}
    if unknown:
        raise bad(f"has unknown option(s) {', '.join(sorted(unknown))} (starttls, timeout)")
    starttls = query.get("starttls", "false")
    if starttls not in _TRUE + _FALSE:
        raise bad("has starttls that is neither true nor false")
    if parts.scheme == "smtps" and starttls in _TRUE:
        raise bad("asks for STARTTLS on smtps:// (already TLS); use one of them")
    try:
        timeout = float(query.get("timeout", "30"))
    except ValueError:
        raise bad("has a timeout that is not a number of seconds") from None
    return SmtpSettings(
        host=parts.hostname,
        port=port or (465 if parts.scheme == "smtps" else 25),
        tls=parts.scheme == "smtps",
        starttls=starttls in _TRUE,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        timeout=timeout,
    )


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes, who sends it and who hears of failures."""

    smtp: SmtpSettings | None
    sender: str = DEFAULT_SENDER
    admins: tuple[str, ...] = ()

    def require_smtp(self) -> SmtpSettings:
        if self.smtp is None:
            raise ConfigError(
                "ECC_SMTP_URL is not set: scheduled reports are sent by email; set it, "
                f"e.g. ECC_SMTP_URL={SMTP_EXAMPLE}"
            )
        return self.smtp


def mail_settings(environ: dict[str, str] | None = None) -> MailSettings:
    """The settings from ``ECC_SMTP_URL``, ``ECC_MAIL_FROM`` and ``ECC_ADMIN_EMAILS``."""
    env = os.environ if environ is None else environ
    url = variables.value("ECC_SMTP_URL", env)
    sender = variables.value("ECC_MAIL_FROM", env)
    if not _ADDRESS.match(parseaddr(sender)[1]):
        raise ConfigError(
            f"ECC_MAIL_FROM {sender!r} is not an email address; "
            "write e.g. 'Executive Command Center <ecc@example.com>'"
        )
    admins = tuple(
        a.strip() for a in variables.value("ECC_ADMIN_EMAILS", env).split(",") if a.strip()
    )
    for a in admins:
        if not _ADDRESS.match(a):
            raise ConfigError(
                f"ECC_ADMIN_EMAILS holds {a!r}, which is not an email address; "
                "give a comma-separated list such as ops@example.com,vp@example.com"
            )
    return MailSettings(smtp=parse_smtp_url(url) if url else None, sender=sender, admins=admins)
