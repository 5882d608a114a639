"""Hand one message to the SMTP server (standard library ``smtplib``).

The outcome is one of three, so that a message is never sent twice:

- accepted (:func:`send` returns the recipients the server refused, usually none);
- :class:`SendFailed` — the server never took the message (no connection, a refusal, a
  4xx/5xx reply): it is safe to try again later;
- :class:`SendFailed` with ``maybe_delivered`` — the connection broke while the message
  was being handed over: it may have been delivered, so it must not be retried blindly.
"""

from __future__ import annotations

import smtplib
import ssl

from .settings import SmtpSettings


class SendFailed(Exception):
    """The message was not (or not certainly) accepted; ``str()`` says why."""

    def __init__(self, reason: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(reason)
        self.maybe_delivered = maybe_delivered


def _reason(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"the server answered {exc.smtp_code} {text.strip()}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is the SMTP server running?)"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.tls:
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(settings: SmtpSettings, sender: str, recipients: list[str], message: bytes) -> list[str]:
    """Send ``message`` (the whole MIME text) to ``recipients``; the refused ones.

    Raises SendFailed when no recipient got it, or when that is not certain.
    """
    try:
        smtp = _connect(settings)
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"cannot reach {settings.describe()}: {_reason(exc)}") from exc
    try:
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            refused: list[str] = []
            for r in recipients:
                code, reply = smtp.rcpt(r)
                if code not in (250, 251):
                    refused.append(f"{r} ({code} {reply.decode(errors='replace')})")
            if len(refused) == len(recipients):
                raise SendFailed("every recipient was refused: " + "; ".join(refused))
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(f"{settings.describe()}: {_reason(exc)}") from exc
        try:
            smtp.data(message)
        except smtplib.SMTPResponseException as exc:  # a reply: the message was not taken
            raise SendFailed(f"{settings.describe()}: {_reason(exc)}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailed(
                f"{settings.describe()}: the connection broke while the message was handed "
                f"over ({_reason(exc)}); it may have been delivered",
                maybe_delivered=True,
            ) from exc
        return refused
    finally:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
