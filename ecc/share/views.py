"""Views shared from a page (the Share button): a read-only address for one dashboard view.

- **frozen** ("as of now"): the page as it was when shared, kept whole; it never changes.
- **live**: the same view (page, period preset, comparison, filters) computed from the
  cache when the link is opened: "this quarter" stays this quarter.

The address carries a random token (192 bits); the database keeps only its SHA-256, so
nobody who reads the database (an analyst, a backup) can open a link. A link lasts
:data:`DEFAULT_DAYS` unless its maker chooses otherwise, at most ``ECC_SHARE_MAX_DAYS``.
A revoked or expired link is refused with a sentence saying so. Each opening counts.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from .. import audit, variables
from ..clock import utcnow
from ..errors import ConfigError
from ..schema import view_links
from .links import LinkRefused

KINDS = {"frozen": "as of now", "live": "live"}
DEFAULT_DAYS = 30
NOTE_LIMIT = 500
#: Pages that are one person's own (their links): never shared.
PRIVATE_PAGES = frozenset({"shared_links"})
#: Where a shared view is opened, under the links service.
PATH = "view"


def max_days() -> int:
    """The longest a link may last (``ECC_SHARE_MAX_DAYS``)."""
    raw = variables.value("ECC_SHARE_MAX_DAYS")
    try:
        days = int(raw)
    except ValueError:
        raise ConfigError(
            f"ECC_SHARE_MAX_DAYS must be a whole number of days, not {raw!r}"
        ) from None
    if days < 1:
        raise ConfigError(f"ECC_SHARE_MAX_DAYS must be at least 1, not {days}")
    return days


@dataclass(frozen=True)
class SharedView:
    link_id: str
    token: str
    kind: str
    expires_at: datetime


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clean_note(note: str | None) -> str | None:
    """A note as kept: control characters out, spaces collapsed, at most
    :data:`NOTE_LIMIT` characters (a ConfigError says so when longer)."""
    if note is None:
        return None
    text = re.sub(r"\s+", " ", re.sub(r"[\x00-\x1f\x7f]", " ", note)).strip()
    if len(text) > NOTE_LIMIT:
        raise ConfigError(f"a note holds at most {NOTE_LIMIT} characters, not {len(text)}")
    return text or None


def share_view(
    engine: Engine,
    page_name: str,
    query: str,
    *,
    kind: str,
    created_by: str,
    days: int = DEFAULT_DAYS,
    note: str | None = None,
) -> SharedView:
    """Share ``page_name`` with the view of ``query`` (its normalised query string): a new
    link, its token to put in the address (shown once, never stored)."""
    from ..ui.pages import load_all
    from ..ui.shared_page import render_shared

    if kind not in KINDS:
        raise ConfigError(f"a shared view is 'frozen' (as of now) or 'live', not {kind!r}")
    if not created_by:
        raise ConfigError("sharing needs to know who you are: open the page through the hub")
    longest = max_days()
    if not 1 <= days <= longest:
        raise ConfigError(f"a link lasts from 1 to {longest} days, not {days}")
    page = load_all().get(page_name)
    if page is None or page_name in PRIVATE_PAGES:
        raise ConfigError(f"the page {page_name!r} cannot be shared")
    kept = clean_note(note)
    now = utcnow()
    expires = now + timedelta(days=days)
    html = None
    if kind == "frozen":
        html = render_shared(
            engine, page_name, query, kind=kind, by=created_by, at=now, expires=expires, note=kept
        )
    token = secrets.token_urlsafe(24)
    link_id = secrets.token_hex(8)
    with engine.begin() as conn:
        conn.execute(
            insert(view_links).values(
                link_id=link_id,
                token_sha256=_sha(token),
                page=page_name,
                params=query,
                kind=kind,
                title=page.title,
                html=html,
                note=kept,
                created_by=created_by,
                created_at=now,
                expires_at=expires,
                views=0,
            )
        )
        audit.record(
            conn,
            created_by,
            "share.create",
            f"link {link_id}",
            page=page_name,
            view=query,
            kind=kind,
            expires_at=expires,
            note=kept,
        )
    return SharedView(link_id, token, kind, expires)


def open_view(engine: Engine, token: str) -> str:
    """The shared page's HTML (the frozen copy, or the live view computed now), counting
    the opening; LinkRefused saying why when it may not be shown."""
    from ..ui.shared_page import render_shared

    t = view_links
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.token_sha256 == _sha(token))).first()
    if row is None:
        raise LinkRefused("This link is not valid.")
    if row.revoked_at is not None:
        raise LinkRefused(
            f"This link was withdrawn on {row.revoked_at:%b %-d, %Y}. Ask the person who "
            "shared it for a new one."
        )
    if row.expires_at <= utcnow():
        raise LinkRefused(
            f"This link expired on {row.expires_at:%b %-d, %Y at %H:%M} UTC. Ask the person "
            "who shared it for a new one."
        )
    from ..ui.pages import load_all

    if row.kind == "frozen" and row.html is not None:
        html = str(row.html)
    elif row.kind != "live" or row.page not in load_all() or row.page in PRIVATE_PAGES:
        raise LinkRefused("This link is not valid.")
    else:
        html = render_shared(
            engine,
            row.page,
            row.params,
            kind=row.kind,
            by=row.created_by,
            at=row.created_at,
            expires=row.expires_at,
            note=row.note,
        )
    with engine.begin() as conn:
        conn.execute(
            update(t)
            .where(t.c.link_id == row.link_id)
            .values(views=t.c.views + 1, last_opened_at=utcnow())
        )
    return html


def list_views(conn: Connection, who: str, *, everyone: bool = False) -> list[dict[str, Any]]:
    """The links ``who`` made (every link when ``everyone``: an admin), newest first."""
    t = view_links
    cols = [c for c in t.c if c.name not in ("token_sha256", "html")]
    q = select(*cols).order_by(t.c.created_at.desc(), t.c.link_id)
    if not everyone:
        q = q.where(t.c.created_by == who)
    return [dict(r) for r in conn.execute(q).mappings()]


def status(row: dict[str, Any], now: datetime | None = None) -> str:
    """A link's state in a word: active, withdrawn or expired."""
    if row.get("revoked_at") is not None:
        return "withdrawn"
    return "expired" if row["expires_at"] <= (now or utcnow()) else "active"


def revoke_view(engine: Engine, link_id: str, who: str, *, admin: bool = False) -> None:
    """Withdraw a link: its maker's, or anyone's for an admin."""
    t = view_links
    where = [t.c.link_id == link_id, t.c.revoked_at.is_(None)]
    if not admin:
        where.append(t.c.created_by == who)
    with engine.begin() as conn:
        done = conn.execute(
            update(t).where(*where).values(revoked_at=utcnow(), revoked_by=who)
        ).rowcount
        if done:
            audit.record(conn, who, "share.withdraw", f"link {link_id}", as_admin=admin)
    if not done:
        raise ConfigError(f"no active link {link_id!r} of yours to withdraw")
