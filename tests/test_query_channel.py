"""The preheated kernels' query channel proof (security finding 4)."""

from __future__ import annotations

import pytest

from ecc.ui.query_channel import channel_url, proof, verify


def test_only_the_key_holder_makes_a_valid_proof() -> None:
    kernel = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    good = proof(b"session-key", kernel)
    assert verify(b"session-key", kernel, good)
    assert not verify(b"another-key", kernel, good)
    assert not verify(b"session-key", "another-kernel", good)
    assert not verify(b"", kernel, proof(b"", kernel))  # a kernel without a key: refused
    assert not verify(b"session-key", kernel, "")


def test_the_channel_url_names_the_kernel_and_carries_the_proof(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOILA_APP_PORT", "8867")
    monkeypatch.setenv("VOILA_SERVER_URL", "/services/dashboards/")
    monkeypatch.setenv("VOILA_KERNEL_ID", "k-1")
    url = channel_url()
    assert url.startswith("ws://127.0.0.1:8867/services/dashboards/voila/query/k-1?proof=")
