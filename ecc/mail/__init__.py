"""Mail (FR-8): scheduled reports and notes to the admins, over SMTP.

- :mod:`.settings`: ``ECC_SMTP_URL``, ``ECC_MAIL_FROM``, ``ECC_ADMIN_EMAILS``.
- :mod:`.compose`: the messages (plain text and HTML, the report's files attached).
- :mod:`.outbox`: recorded before sending; claimed, sent at most once, retried with backoff.
- :mod:`.smtp`: one message handed to the server (``smtplib``).
"""
