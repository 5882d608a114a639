"""Secrets stay out of messages and logs (security finding 13)."""

from __future__ import annotations

import logging

import pytest

from ecc.cache.redis_layer import RedisLayer
from ecc.config import redact_url
from ecc.errors import ConfigError
from ecc.mail.settings import parse_smtp_url
from tests.support.servers import free_port


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("smtp://ops:s3cr3t@mail.example.com:587", "smtp://ops:***@mail.example.com:587"),
        ("redis://:hunter2@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("postgresql+psycopg://u:p%40ss@db/x", "postgresql+psycopg://u:***@db/x"),
    ],
)
def test_a_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_bad_smtp_url_is_named_without_its_password() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_smtp_url("smtp://ops:s3cr3t@mail.example.com:587?starttls=maybe")
    assert "s3cr3t" not in str(caught.value)
    assert "smtp://ops:***@mail.example.com:587" in str(caught.value)


def test_redis_down_is_logged_without_its_password(caplog: pytest.LogCaptureFixture) -> None:
    layer = RedisLayer(f"redis://:hunter2@127.0.0.1:{free_port()}/0", "sqlite:///x")
    with caplog.at_level(logging.WARNING):
        assert layer.get("1", "some-key", ("risk",)) is None
    assert "not answering" in caplog.text
    assert "hunter2" not in caplog.text and ":***@127.0.0.1" in caplog.text
