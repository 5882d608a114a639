"""How a preheated dashboards kernel learns the viewer's request, proving who it is.

Voilà hands a page request (its query string and headers) to the preheated kernel
that renders it over a websocket, ``voila/query/<kernel id>``. Kernel ids show in any
process list, so the server must not hand the request to whoever names the id first:
the kernel sends a proof only it and the server can make — an HMAC of its id keyed with
its own session key (the key of its connection file, which only the server and the
kernel can read) — and the dashboards service (:mod:`ecc.hub.dashboards`) refuses the
channel without it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from urllib.parse import urlencode

#: The query parameter that carries the kernel's proof.
PROOF = "proof"


def proof(key: bytes, kernel_id: str) -> str:
    """HMAC-SHA256 of ``kernel_id`` with the kernel's session ``key``, in hex."""
    return hmac.new(key, kernel_id.encode(), hashlib.sha256).hexdigest()


def verify(key: bytes, kernel_id: str, given: str) -> bool:
    return bool(key) and hmac.compare_digest(proof(key, kernel_id), given)


def _session_key() -> bytes:
    """This kernel's session key (empty outside a kernel)."""
    try:
        from ipykernel.kernelapp import IPKernelApp
    except ImportError:  # pragma: no cover - ipykernel is a dependency
        return b""
    if not IPKernelApp.initialized():
        return b""
    session = IPKernelApp.instance().session
    return bytes(session.key or b"")


def channel_url() -> str:
    """Voilà's query-channel address for this kernel, with its proof (as
    ``voila.utils.wait_for_request`` builds it, plus the proof)."""
    protocol = os.getenv("VOILA_WS_PROTOCOL", "ws")
    ip = os.getenv("VOILA_APP_IP", "127.0.0.1")
    port = os.getenv("VOILA_APP_PORT", "8866")
    base = os.getenv("VOILA_WS_BASE_URL", os.getenv("VOILA_SERVER_URL", "/"))
    kernel_id = os.getenv("VOILA_KERNEL_ID", "")
    query = urlencode({PROOF: proof(_session_key(), kernel_id)})
    return f"{protocol}://{ip}:{port}{base}voila/query/{kernel_id}?{query}"


def wait_for_request() -> str:
    """Wait for the viewer's request; put its details into the environment, as Voilà
    does, and return its query string."""
    from websockets.sync.client import connect

    with connect(channel_url(), open_timeout=5, max_size=2**20) as ws:
        info = ws.recv()
    for k, v in json.loads(info).items():
        os.environ[str(k)] = str(v)
    return os.environ.get("QUERY_STRING", "")
