"""``ecc scheduler --list``: the schedules with their next runs, the latest runs, and the
mail that is not sent yet."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from ..mail import outbox
from . import records
from .config import Schedule
from .service import next_runs


def _at(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


def _run_line(r: Any) -> str:
    files = ", ".join(p.rsplit("/", 1)[-1] for p in json.loads(r.files or "[]"))
    params = json.loads(r.parameters)
    period = f"{params.get('start')}..{params.get('end')}" if params.get("start") else "-"
    line = (
        f"run {r.run_id}\t{r.schedule}\t{r.trigger}\t{_at(r.started_at)}\t{r.status}"
        f"\tperiod {period}\tdata as of {r.data_as_of or '-'}\tmail {r.mail or '-'}"
    )
    if files:
        line += f"\t{files}"
    if r.error:
        where = f" [notebook {r.failed_notebook}, cell {r.failed_cell}]" if r.failed_cell else ""
        line += f"\terror{where}: {r.error.strip().splitlines()[0]}"
    return line


def print_status(engine: Engine, schedules: list[Schedule], say: Callable[[str], None]) -> None:
    stored = next_runs(engine)
    now = datetime.now(UTC)
    with engine.connect() as conn:
        last = records.last_of_each(conn)
        recent = records.recent(conn, limit=10)
        mail = outbox.counts(conn)
        unsent = outbox.unsent(conn)
    say("schedules:")
    for s in schedules:
        if not s.enabled:
            nxt = "disabled"
        elif s.name in stored:
            nxt = f"next run {_at(stored[s.name])}"
        else:
            when = s.trigger().get_next_fire_time(None, now)
            nxt = f"not scheduled yet (start `ecc scheduler`); cron says {_at(when)}"
        prev = last.get(s.name)
        was = f"last run {prev.run_id} {prev.status} {_at(prev.started_at)}" if prev else "no run"
        pages = "board pack" if len(s.notebooks) > 1 else s.notebooks[0]
        say(f"  {s.name}\t{s.cron} ({s.timezone})\t{pages}\t{','.join(s.formats)}\t{nxt}\t{was}")
    for name in sorted(set(stored) - {s.name for s in schedules}):
        say(f"  {name}\tin the job store but not in the files (removed at the next start)")
    digests = next_runs(engine, prefix="alerts:")
    for cadence, when in sorted(digests.items()):
        say(f"  {cadence} alert digest\tnext run {_at(when)}")
    say("recent runs:" if recent else "recent runs: none")
    for r in recent:
        say("  " + _run_line(r))
    summary = ", ".join(f"{n} {s}" for s, n in sorted(mail.items())) or "empty"
    say(f"outbox: {summary}")
    for m in unsent:
        line = f"  mail {m.mail_id}\t{m.kind}\t{m.status}\ttries {m.attempts}\t{m.subject}"
        if m.status == "pending":
            line += f"\tnext try {_at(m.next_attempt_at)}"
        if m.last_error:
            line += f"\t{m.last_error}"
        say(line)
