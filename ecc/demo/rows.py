"""The rows written for each demo customer after its history is simulated.

:class:`Generator` writes a customer's health scores, renewals (with a forecast
status that follows the latest score), save plays (opened when the score falls),
expansion opportunities (won ones for every expansion, lost and open ones on top),
activities and support tickets, plus the CSMs' internal tasks. It keeps the
renewal rows until the end so the quarter's open renewals show both forecast
statuses.
"""

from __future__ import annotations

import bisect
import math
import random

from ..config import OPPORTUNITY_STAGES
from .csv_out import Row, Writers
from .dates import Days, quarter_bounds, weekday_shift
from .draws import pick, poisson, round_to, unit_for
from .health import p_at_risk, score_at, weekly_scores
from .params import (
    ACTIVITY_KINDS,
    ACTIVITY_RATES,
    INTERNAL_TASKS_PER_MONTH,
    LOST_OPPORTUNITIES,
    OPEN_OPPORTUNITIES,
    TICKET_PRIORITIES,
    TICKET_TIMES,
    TICKETS_PER_MONTH,
)
from .portfolio import Csm, Customer


class Generator:
    """Writes each customer's rows and the CSMs' internal tasks, drawing from one seeded rng."""

    def __init__(self, rng: random.Random, today: int, days: Days, csms: list[Csm]) -> None:
        self.rng = rng
        self.today = today
        self.days = days
        self.csms = {m.csm_id: m for m in csms}
        self.score_text = [str(i) for i in range(101)]
        self.end_seconds = (today + 1) * 86_400 - 1
        self.activity_seq = 0
        self.renewal_rows: list[Row] = []
        self.quarter = quarter_bounds(today)
        self.open_in_quarter: list[tuple[int, int]] = []  # (row index, latest score)

    def owner(self, c: Customer, d: int) -> str:
        if c.former_csm and d <= c.former_until:
            return c.former_csm
        return c.csm_id

    def customer(self, c: Customer, w: Writers) -> None:
        rng = self.rng
        ds = self.days
        today = self.today
        scores = weekly_scores(rng, c, today)
        cid = c.customer_id
        st = self.score_text
        w.write_many("health_scores", [(cid, ds(t), st[s]) for t, s in scores])
        days = [t for t, _ in scores]
        self._renewals(c, w, days, scores)
        self._save_plays(c, w, scores)
        self._opportunities(c, w)
        self._activities(c, w)
        self._tickets(c, w)

    def _renewals(
        self, c: Customer, w: Writers, days: list[int], scores: list[tuple[int, int]]
    ) -> None:
        rng = self.rng
        ds = self.days
        for r in c.renewals:
            at = r.closed if r.closed is not None else self.today
            p = p_at_risk(score_at(days, scores, at))
            if r.outcome == "churned":
                p = max(p, 0.5)
            status = "at_risk" if rng.random() < p else "on_track"
            if r.closed is None and self.quarter[0] <= r.due <= self.quarter[1]:
                score = score_at(days, scores, self.today)
                self.open_in_quarter.append(
                    (len(self.renewal_rows), 50 if score is None else score)
                )
            self.renewal_rows.append(
                (
                    w.next_id("RN", 6),
                    c.customer_id,
                    ds(r.due),
                    str(r.arr),
                    status,
                    r.outcome or "",
                    ds(r.closed) if r.closed is not None else "",
                    str(r.renewed_arr) if r.renewed_arr is not None else "",
                )
            )

    def write_renewals(self, w: Writers) -> None:
        """Write the renewals, first making sure the quarter's open ones show both statuses."""
        rows = self.renewal_rows
        ranked = sorted(self.open_in_quarter, key=lambda item: (item[1], item[0]))
        if len(ranked) >= 2:
            statuses = {rows[i][4] for i, _ in ranked}
            if "at_risk" not in statuses:
                i = ranked[0][0]
                rows[i] = (*rows[i][:4], "at_risk", *rows[i][5:])
            if "on_track" not in statuses:
                i = ranked[-1][0]
                rows[i] = (*rows[i][:4], "on_track", *rows[i][5:])
        w.write_many("renewals", rows)

    def _save_plays(self, c: Customer, w: Writers, scores: list[tuple[int, int]]) -> None:
        rng = self.rng
        today = self.today
        closings = sorted(
            (r.closed, r.outcome) for r in c.renewals if r.closed is not None and r.outcome
        )
        dues = [r.due for r in c.renewals]
        churns = [e[0] for e in c.events if e[1] == "churn"]
        plays: list[tuple[int, str | None, int | None]] = []
        opened: int | None = None
        cooldown = -(10**9)

        def resolve_before(t: int) -> bool:
            nonlocal opened, cooldown
            assert opened is not None
            for day, outcome in closings:
                if opened < day <= t:
                    plays.append((opened, "saved" if outcome == "renewed" else "lost", day))
                    opened, cooldown = None, day
                    return True
            for day in churns:
                if opened < day <= t:
                    plays.append((opened, "lost", day))
                    opened, cooldown = None, day
                    return True
            return False

        for t, s in scores:
            if opened is not None:
                if resolve_before(t):
                    pass
                elif s >= 60:
                    day = min(today, t + rng.randint(0, 6))
                    plays.append((opened, "saved", day))
                    opened, cooldown = None, day
                continue
            if t - cooldown < 45:
                continue
            if s >= 50:
                continue
            soon = any(0 <= due - t <= 90 for due in dues)
            if (s < 40 and rng.random() < 0.5) or (soon and rng.random() < 0.25):
                opened = min(today, t + rng.randint(0, 3))
        if opened is not None and not resolve_before(today):
            plays.append((opened, None, None))
        for day, outcome, closed in plays:
            w.write(
                "save_plays",
                (
                    w.next_id("SP", 5),
                    c.customer_id,
                    self.owner(c, day),
                    self.days(day),
                    outcome or "",
                    self.days(closed) if closed is not None else "",
                ),
            )

    def _opportunities(self, c: Customer, w: Writers) -> None:
        rng = self.rng
        ds = self.days
        today = self.today
        unit = unit_for(c.segment)
        cid = c.customer_id
        rows: list[Row] = []

        def row(
            kind: str, stage: str, amount: int, created: int, expected: int,
            outcome: str, closed: int | None,
        ) -> None:  # fmt: skip
            rows.append(
                (
                    w.next_id("OP", 6),
                    cid,
                    kind,
                    stage,
                    str(amount),
                    ds(created),
                    ds(expected),
                    outcome,
                    ds(closed) if closed is not None else "",
                )
            )

        arr_by_day: list[tuple[int, int]] = []
        running = 0
        for day, kind, delta, etype in c.events:
            running += delta
            arr_by_day.append((day, running))
            if kind == "expansion":
                created = max(c.signup, day - rng.randint(25, 110))
                stage = "negotiation" if rng.random() < 0.65 else "proposal"
                row(etype, stage, delta, created, created + rng.randint(30, 90), "won", day)
        arr_days = [d for d, _ in arr_by_day]

        def arr_at(d: int) -> int:
            i = bisect.bisect_right(arr_days, d)
            return arr_by_day[i - 1][1] if i else 0

        for a, b in c.intervals:
            end = min(b, today + 1)
            span = end - a - 20
            if span <= 0:
                continue
            for _ in range(poisson(rng, LOST_OPPORTUNITIES[c.segment] * span / 365.0)):
                created = a + rng.randrange(span)
                base = arr_at(created)
                if base <= 0:
                    continue
                amount = round_to(base * rng.uniform(0.08, 0.45), unit)
                kind = pick(rng, (("upsell", 0.5), ("cross_sell", 0.3), ("upgrade", 0.2)))
                stage = pick(
                    rng,
                    (("identified", 0.3), ("qualified", 0.3), ("proposal", 0.25),
                     ("negotiation", 0.15)),
                )  # fmt: skip
                closed = created + rng.randint(20, 150)
                expected = created + rng.randint(30, 100)
                if b <= today:
                    closed = min(closed, b)
                if closed <= today:
                    row(kind, stage, amount, created, expected, "lost", closed)
                else:
                    row(kind, stage, amount, created, expected, "", None)
        if c.arr_today > 0:
            factor = 1.0 + (c.baseline - 65.0) / 40.0
            for _ in range(poisson(rng, OPEN_OPPORTUNITIES[c.segment] * max(0.2, factor))):
                age = rng.randint(0, 120)
                created = max(c.signup, today - age)
                amount = round_to(c.arr_today * rng.uniform(0.08, 0.4), unit)
                kind = pick(rng, (("upsell", 0.45), ("cross_sell", 0.33), ("upgrade", 0.22)))
                i = min(3, int(age / 30 + rng.random() * 1.5))
                stage = OPPORTUNITY_STAGES[i]
                if rng.random() < 0.85:  # most are expected to close within 90 days
                    expected = today + rng.randint(1, 90)
                elif rng.random() < 0.5:  # overdue
                    expected = today - rng.randint(0, 20)
                else:
                    expected = today + rng.randint(91, 150)
                row(kind, stage, amount, created, max(created, expected), "", None)
        w.write_many("expansion_opportunities", rows)

    def _activities(self, c: Customer, w: Writers) -> None:
        rng = self.rng
        today = self.today
        cid = c.customer_id
        rates = ACTIVITY_RATES[c.segment]
        level = self.csms[c.csm_id].activity
        renewal_dues = [r.due for r in c.renewals]
        rows: list[Row] = []
        for a, b in c.intervals:
            end = min(b, today + 1)
            span = end - a
            if span <= 0:
                continue
            months = span / 30.4
            for kind, rate in zip(ACTIVITY_KINDS, rates, strict=True):
                for _ in range(poisson(rng, rate * months * level)):
                    d = weekday_shift(a + rng.randrange(span), today)
                    rows.append(self._activity(c, kind, d, cid))
            # renewal meetings in the 60 days before each due date
            for due in renewal_dues:
                if a <= due - 60 and due - 1 <= today and due <= end + 60:
                    d = weekday_shift(due - rng.randint(1, 60), today)
                    if a <= d < end:
                        rows.append(self._activity(c, "meeting", d, cid))
        w.write_many("activities", rows)

    def _activity(self, c: Customer | None, kind: str, d: int, cid: str, csm: str = "") -> Row:
        rng = self.rng
        owner = csm or (self.owner(c, d) if c is not None else "")
        completed = "true"
        hours = ""
        if kind == "task":
            recent = d > self.today - 14
            done = rng.random() < (0.5 if recent else 0.9)
            completed = "true" if done else "false"
        elif kind == "email" and rng.random() < 0.6:
            h = rng.lognormvariate(math.log(3.5), 1.0) * self.csms[owner].speed
            hours = f"{min(72.0, max(0.5, h)):.1f}"
        self.activity_seq += 1
        return (f"AC{self.activity_seq:07d}", owner, cid, kind, self.days(d), completed, hours)

    def internal_tasks(self, w: Writers, first_day: int) -> None:
        rng = self.rng
        rows: list[Row] = []
        for m in self.csms.values():
            last = m.left_on if m.left_on is not None else self.today
            span = last - first_day + 1
            if span <= 0:
                continue
            for _ in range(poisson(rng, INTERNAL_TASKS_PER_MONTH * span / 30.4)):
                d = weekday_shift(first_day + rng.randrange(span), last)
                rows.append(self._activity(None, "task", d, "", m.csm_id))
        w.write_many("activities", rows)

    def _tickets(self, c: Customer, w: Writers) -> None:
        rng = self.rng
        stamp = self.days.stamp
        today = self.today
        end_s = self.end_seconds
        factor = min(2.0, max(0.5, 1.0 + (70.0 - c.baseline) / 40.0))
        rate = TICKETS_PER_MONTH[c.segment] * factor
        rows: list[Row] = []
        for a, b in c.intervals:
            end = min(b, today + 1)
            span = end - a
            if span <= 0:
                continue
            for _ in range(poisson(rng, rate * span / 30.4)):
                d = a + rng.randrange(span)
                hour = int(rng.gauss(14.0, 3.5)) % 24
                opened = d * 86_400 + hour * 3_600 + rng.randrange(3_600)
                priority = pick(rng, TICKET_PRIORITIES)
                first_mean, resolve_mean = TICKET_TIMES[priority]
                first = opened + 60 + int(rng.expovariate(1.0 / first_mean))
                resolved = first + 300 + int(rng.expovariate(1.0 / resolve_mean))
                if opened > end_s:
                    continue
                first_text = stamp(first) if first <= end_s else ""
                stale = rng.random() < 0.015
                resolved_text = stamp(resolved) if resolved <= end_s and not stale else ""
                rows.append(
                    (w.next_id("TK", 6), c.customer_id, stamp(opened), first_text, resolved_text,
                     priority)
                )  # fmt: skip
        w.write_many("support_tickets", rows)
