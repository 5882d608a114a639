"""Rendered page bodies, drawn once and shared by the dashboards server and its kernels.

A page's body for a view (its KPIs, charts and tables: ``Page.render``) depends only on
the view and the data, and drawing it costs 80 to 480 ms of CPU, most of it the charts
(vl-convert). A crowd draws the same few views again and again: the server for each
first paint, then each viewer's kernel for its page, and each kernel again when its
viewer changes a filter to the period everyone else chose. With a folder to share
(``ECC_BODY_CACHE``: made, 0700, by the dashboards server at its start, removed at its
end, inherited by its kernels), a body is drawn once per (page, view, data version,
cache generation, alerts' state) and read by everyone else in a millisecond; renderers
of one body at the same moment wait for the first rather than all drawing it.

Without the variable (reports, papermill, the command line) bodies are drawn every time.
Pages that act (a ``live`` part) are never kept: what they show is their viewer's.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from .. import variables

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from .pages import Page, PageContext

#: The variable that names the shared folder.
VARIABLE = "ECC_BODY_CACHE"
#: How the shared folders' names begin (then the server's pid).
PREFIX = "ecc-bodies-"
#: Bodies kept; past it the oldest go (a body is 10 to 200 KB).
KEEP = 512


def state_of(conn: Connection, page: Page) -> tuple[str, str, str]:
    """What a page's rendering is kept by besides its view: the data version, the cache
    generation and, for a page that counts open alerts, the alerts' state (a count
    changes when someone acknowledges, without a new load)."""
    from ..alerts.store import alerts_state
    from ..cache.service import generation

    data, cache = generation(conn)
    alerts = alerts_state(conn) if page.reads_alerts else ""
    return str(data), str(cache), alerts


def body(conn: Connection, page: Page, ctx: PageContext) -> str:
    """``page.render(ctx)``, read from the shared folder when someone drew it already."""
    where = _folder()
    if where is None or page.live is not None:
        return page.render(ctx)
    key = _key(page, ctx, state_of(conn, page))
    path = where / f"{key}.html"
    with contextlib.suppress(OSError):
        return path.read_text(encoding="utf-8")
    try:
        lock = open(where / f"{key}.lock", "a")  # noqa: SIM115 (held across the render)
    except OSError:  # the folder went away (the server stopping): draw it here
        return page.render(ctx)
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another renderer of this body: wait for it
        with contextlib.suppress(OSError):
            return path.read_text(encoding="utf-8")
        html = page.render(ctx)
        with contextlib.suppress(OSError):
            _write(path, html)
            _trim(where)
    return html


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A new folder for this server's bodies, named in the environment its kernels
    inherit, and removed when the server ends (a killed server's goes at the next
    start, :func:`sweep`)."""
    sweep(Path(tempfile.gettempdir()))
    # 0700: the server's user only; the server's pid in the name, for sweep
    made = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    os.environ[VARIABLE] = str(made)
    try:
        yield made
    finally:
        os.environ.pop(VARIABLE, None)
        shutil.rmtree(made, ignore_errors=True)


def sweep(where: Path) -> list[Path]:
    """Remove the folders in ``where`` of this user's servers that ended without removing
    theirs (killed); the ones removed."""
    import psutil

    gone = []
    for old in where.glob(f"{PREFIX}*-*"):
        pid = old.name.removeprefix(PREFIX).split("-", 1)[0]
        with contextlib.suppress(OSError, ValueError):
            if old.stat().st_uid == os.getuid() and not psutil.pid_exists(int(pid)):
                shutil.rmtree(old)
                gone.append(old)
    return gone


def _folder() -> Path | None:
    given = variables.given(VARIABLE)
    if not given:
        return None
    where = Path(given)
    return where if where.is_dir() else None


def _key(page: Page, ctx: PageContext, state: tuple[str, ...]) -> str:
    view = urlencode(sorted(ctx.view.params().items()))
    parts = (page.name, view, ctx.source, *state)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _write(path: Path, html: str) -> None:
    """Whole or not at all: a reader never sees half a body."""
    part = path.with_name(f"{path.name}.{os.getpid()}.part")
    part.write_text(html, encoding="utf-8")
    os.replace(part, path)


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # another process took it out first
        return 0.0


def _trim(where: Path) -> None:
    """The oldest bodies (and their locks) out, past :data:`KEEP`."""
    bodies = list(where.glob("*.html"))
    if len(bodies) <= KEEP:
        return
    bodies.sort(key=_age)
    for old in bodies[: len(bodies) - KEEP]:
        old.unlink(missing_ok=True)
        old.with_suffix(".lock").unlink(missing_ok=True)
