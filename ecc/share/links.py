"""Share links: ``/share/<token>``, the token an itsdangerous signature over the link id.

A link is refused (403) when its signature does not verify (tampered or made with
another key), when it has expired, or when it was revoked. The signing key is
``ECC_SECRET_KEY``, or else one generated on first use and kept in a file readable by its
owner alone (:func:`ecc.paths.share_key_file`): never in the data database, which analysts
and the dashboards read. A key an earlier version kept in ``ecc_meta`` moves to the file.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Connection, Engine, delete, insert, select, update

from .. import paths, variables
from ..clock import utcnow
from ..errors import ConfigError
from ..schema import ecc_meta, share_links

SALT = "ecc-share-link"
DEFAULT_DAYS = 7
MAX_DAYS = 90


class LinkRefused(Exception):
    """A link that must not be served; ``reason`` is safe to show to its holder."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    link_id: str
    token: str
    title: str
    expires_at: datetime


def _key(conn: Connection) -> str:
    env = variables.value("ECC_SECRET_KEY")
    if env:
        return env
    path = paths.share_key_file()
    if path.is_file():
        return path.read_text().strip()
    # an earlier version's key in the database moves out (its links keep working)
    earlier = conn.execute(select(ecc_meta.c.value).where(ecc_meta.c.key == "share_key")).scalar()
    key = str(earlier) if earlier else secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key)
    try:
        os.link(draft, path)  # whole, at once; fails when another process was first
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink()
    conn.execute(delete(ecc_meta).where(ecc_meta.c.key == "share_key"))
    return key


def _serializer(conn: Connection) -> URLSafeSerializer:
    return URLSafeSerializer(_key(conn), salt=SALT)


def create_link(
    engine: Engine,
    html_file: Path,
    *,
    days: float = DEFAULT_DAYS,
    title: str | None = None,
    created_by: str | None = None,
    expires_at: datetime | None = None,
) -> Link:
    """Freeze ``html_file`` (a report from ``ecc report``) behind a new link."""
    if not html_file.is_file():
        raise ConfigError(f"no report at {html_file}; make one with `ecc report ... --format html`")
    if expires_at is None:
        if not 0 < days <= MAX_DAYS:
            raise ConfigError(f"a link lasts between a minute and {MAX_DAYS} days, not {days}")
        expires_at = utcnow() + timedelta(days=days)
    html = html_file.read_text()
    link_id = secrets.token_hex(16)
    with engine.begin() as conn:
        conn.execute(
            insert(share_links).values(
                link_id=link_id,
                title=title or html_file.stem,
                html=html,
                created_at=utcnow(),
                created_by=created_by,
                expires_at=expires_at,
            )
        )
        token = str(_serializer(conn).dumps(link_id))
    return Link(link_id, token, title or html_file.stem, expires_at)


def open_link(engine: Engine, token: str) -> str:
    """The snapshot's HTML, or LinkRefused saying why."""
    with engine.begin() as conn:
        try:
            link_id = _serializer(conn).loads(token)
        except BadSignature:
            raise LinkRefused("This link is not valid.") from None
        row = conn.execute(select(share_links).where(share_links.c.link_id == link_id)).first()
    if row is None:
        raise LinkRefused("This link is not valid.")
    if row.revoked_at is not None:
        raise LinkRefused("This link has been withdrawn by the person who shared it.")
    if row.expires_at <= utcnow():
        raise LinkRefused(f"This link expired on {row.expires_at:%b %-d, %Y at %H:%M} UTC.")
    return str(row.html)


def revoke_link(engine: Engine, link_id: str) -> None:
    with engine.begin() as conn:
        done = conn.execute(
            update(share_links)
            .where(share_links.c.link_id == link_id, share_links.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
    if not done:
        raise ConfigError(f"no active share link {link_id!r} (`ecc share list` shows them)")


def list_links(engine: Engine) -> list[dict[str, object]]:
    t = share_links
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.link_id, t.c.title, t.c.created_at, t.c.expires_at, t.c.revoked_at).order_by(
                t.c.created_at.desc()
            )
        ).mappings()
        return [dict(r) for r in rows]
