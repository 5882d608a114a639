"""Every KPI in plain words: label, unit, which dates it covers, and which way is good.

Dashboards show these on hover/tap, reports print them in a glossary, exports put them
beside the numbers. The text restates METRICS.md for a reader who is not an analyst.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from .periods import Period, minus_year, quarter_end, quarter_start

Unit = Literal["money", "rate", "score", "count", "days", "hours", "text"]
Span = Literal["at_end", "over_period", "next_90_days", "quarter", "ttm"]
Direction = Literal["up", "down", "neutral"]


@dataclass(frozen=True)
class Definition:
    key: str  # METRICS.md key path, e.g. "retention.grr"
    label: str
    unit: Unit
    span: Span
    text: str
    good: Direction = "neutral"  # which way of change is good news

    def covers(self, period: Period) -> str:
        """The dates this number covers, in words, for ``period``."""
        end = period.end
        if self.span == "at_end":
            return f"as of {end:%b %-d, %Y}"
        if self.span == "over_period":
            return f"{period.start:%b %-d, %Y} – {end:%b %-d, %Y}"
        if self.span == "next_90_days":
            return f"{end + timedelta(days=1):%b %-d} – {end + timedelta(days=90):%b %-d, %Y}"
        if self.span == "quarter":
            return f"quarter {quarter_start(end):%b %-d} – {quarter_end(end):%b %-d, %Y}"
        return f"{minus_year(end):%b %-d, %Y} – {end:%b %-d, %Y}"


_D = Definition

DEFINITIONS: dict[str, Definition] = {
    d.key: d
    for d in (
        _D(
            "portfolio.customers",
            "Customers",
            "count",
            "at_end",
            "Customers with ARR above zero on the as-of date.",
            "up",
        ),
        _D(
            "portfolio.arr",
            "ARR",
            "money",
            "at_end",
            "Annual recurring revenue of all active customers on the as-of date: the running "
            "sum of every new, expansion, contraction, churn and reactivation.",
            "up",
        ),
        _D(
            "portfolio.avg_health",
            "Average health",
            "score",
            "at_end",
            "Mean of each active customer's latest health score (0–100), every customer "
            "counting once whatever its size. Unscored customers are left out.",
            "up",
        ),
        _D(
            "portfolio.distribution.healthy",
            "Healthy",
            "rate",
            "at_end",
            "Share of scored active customers whose latest score is 70 or more.",
            "up",
        ),
        _D(
            "portfolio.distribution.at_risk",
            "At risk",
            "rate",
            "at_end",
            "Share of scored active customers whose latest score is 40 to under 70.",
            "down",
        ),
        _D(
            "portfolio.distribution.critical",
            "Critical",
            "rate",
            "at_end",
            "Share of scored active customers whose latest score is below 40.",
            "down",
        ),
        _D(
            "retention.grr",
            "Gross revenue retention",
            "rate",
            "over_period",
            "Of the ARR customers had the day before the period, the share still there at "
            "its end, counting no growth: each customer counts at most its starting ARR. "
            "Churn and contraction lower it; expansion cannot raise it.",
            "up",
        ),
        _D(
            "retention.nrr",
            "Net revenue retention",
            "rate",
            "over_period",
            "ARR at the end of the period of the customers active the day before it, divided "
            "by their ARR then. Expansion raises it; churn and contraction lower it.",
            "up",
        ),
        _D(
            "retention.grr_ttm",
            "GRR, trailing 12 months",
            "rate",
            "ttm",
            "Gross revenue retention of the customers active exactly one year before the "
            "as-of date.",
            "up",
        ),
        _D(
            "retention.nrr_ttm",
            "NRR, trailing 12 months",
            "rate",
            "ttm",
            "Net revenue retention of the customers active exactly one year before the as-of date.",
            "up",
        ),
        _D(
            "retention.new_arr",
            "New ARR",
            "money",
            "over_period",
            "ARR from customers' first contracts signed in the period.",
            "up",
        ),
        _D(
            "retention.expansion_arr",
            "Expansion ARR",
            "money",
            "over_period",
            "ARR added to existing customers in the period: upsell, cross-sell, upgrade.",
            "up",
        ),
        _D(
            "retention.reactivation_arr",
            "Reactivated ARR",
            "money",
            "over_period",
            "ARR from former customers who came back in the period.",
            "up",
        ),
        _D(
            "retention.contraction_arr",
            "Contraction ARR",
            "money",
            "over_period",
            "ARR lost to downgrades in the period (customers who stayed).",
            "down",
        ),
        _D(
            "retention.churned_arr",
            "Churned ARR",
            "money",
            "over_period",
            "ARR lost to customers who left in the period.",
            "down",
        ),
        _D(
            "retention.grr_target",
            "GRR target",
            "rate",
            "over_period",
            "The gross-retention goal for the period: the targets' rates weighted by the days "
            "they cover.",
            "neutral",
        ),
        _D(
            "retention.nrr_target",
            "NRR target",
            "rate",
            "over_period",
            "The net-retention goal for the period: the targets' rates weighted by the days "
            "they cover.",
            "neutral",
        ),
        _D(
            "retention.forecast.churn_arr",
            "Forecast churn",
            "money",
            "next_90_days",
            "Renewals open on the as-of date and due in the next 90 days, weighted by the "
            "chance of churn: 5% when on track, 40% when at risk.",
            "down",
        ),
        _D(
            "retention.forecast.expansion_arr",
            "Forecast expansion",
            "money",
            "next_90_days",
            "Open expansion opportunities expected to close in the next 90 days, weighted by "
            "stage: identified 10%, qualified 25%, proposal 50%, negotiation 75%.",
            "up",
        ),
        _D(
            "risk.arr_at_risk",
            "ARR at risk",
            "money",
            "at_end",
            "ARR of active customers whose latest health score is below 70 (at risk or critical).",
            "down",
        ),
        _D(
            "risk.critical_arr",
            "Critical ARR",
            "money",
            "at_end",
            "ARR of active customers whose latest health score is below 40.",
            "down",
        ),
        _D(
            "risk.save_plays.active",
            "Active save plays",
            "count",
            "at_end",
            "Save plays open on the as-of date.",
            "neutral",
        ),
        _D(
            "risk.save_plays.success_rate",
            "Save-play success rate",
            "rate",
            "over_period",
            "Of the save plays closed in the period, the share that saved the account.",
            "up",
        ),
        _D(
            "renewals.renewal_rate",
            "Renewal rate",
            "rate",
            "over_period",
            "Of the ARR up for renewal on renewals closed in the period, the share renewed.",
            "up",
        ),
        _D(
            "renewals.forecast_rate",
            "Renewal forecast",
            "rate",
            "quarter",
            "Expected share of this quarter's renewal ARR that renews: renewed ARR so far, plus "
            "open renewals weighted by their chance to renew (95% on track, 60% at risk).",
            "up",
        ),
        _D(
            "renewals.target",
            "Renewal-rate target",
            "rate",
            "quarter",
            "The renewal-rate goal set for the quarter.",
            "neutral",
        ),
        _D(
            "renewals.late.arr",
            "Late renewals",
            "money",
            "at_end",
            "ARR of renewals past their due date with no outcome recorded.",
            "down",
        ),
        _D(
            "renewals.late.count",
            "Late renewals (count)",
            "count",
            "at_end",
            "Renewals past their due date with no outcome recorded on the as-of date.",
            "down",
        ),
        _D(
            "renewals.upcoming.d30.arr",
            "Due in 1–30 days",
            "money",
            "at_end",
            "ARR up for renewal on the open renewals due 1 to 30 days after the as-of date.",
            "neutral",
        ),
        _D(
            "renewals.upcoming.d30.count",
            "Due in 1–30 days (count)",
            "count",
            "at_end",
            "Open renewals due 1 to 30 days after the as-of date.",
            "neutral",
        ),
        _D(
            "renewals.upcoming.d60.arr",
            "Due in 31–60 days",
            "money",
            "at_end",
            "ARR up for renewal on the open renewals due 31 to 60 days after the as-of date.",
            "neutral",
        ),
        _D(
            "renewals.upcoming.d60.count",
            "Due in 31–60 days (count)",
            "count",
            "at_end",
            "Open renewals due 31 to 60 days after the as-of date.",
            "neutral",
        ),
        _D(
            "renewals.upcoming.d90.arr",
            "Due in 61–90 days",
            "money",
            "at_end",
            "ARR up for renewal on the open renewals due 61 to 90 days after the as-of date.",
            "neutral",
        ),
        _D(
            "renewals.upcoming.d90.count",
            "Due in 61–90 days (count)",
            "count",
            "at_end",
            "Open renewals due 61 to 90 days after the as-of date.",
            "neutral",
        ),
        _D(
            "expansion.open_value",
            "Open expansion pipeline",
            "money",
            "at_end",
            "Total ARR of expansion opportunities open on the as-of date.",
            "up",
        ),
        _D(
            "expansion.win_rate",
            "Expansion win rate",
            "rate",
            "over_period",
            "Of the opportunities closed in the period, the share won.",
            "up",
        ),
        _D(
            "expansion.forecast_win_rate",
            "Forecast win rate",
            "rate",
            "at_end",
            "The win rate the open pipeline implies: the mean stage probability of the open "
            "opportunities.",
            "up",
        ),
        _D(
            "expansion.expansion_arr",
            "Expansion ARR",
            "money",
            "over_period",
            "ARR added to existing customers in the period.",
            "up",
        ),
        _D(
            "expansion.target",
            "Expansion ARR target",
            "money",
            "over_period",
            "The expansion goal for the period, pro-rated by days from the quarterly targets.",
            "neutral",
        ),
        _D(
            "expansion.win_rate_target",
            "Win-rate target",
            "rate",
            "over_period",
            "The goal for the share of closed opportunities won in the period.",
            "neutral",
        ),
        _D(
            "segments.expansion_rate",
            "Expansion rate",
            "rate",
            "over_period",
            "Expansion ARR in the period on the customers active at its start, divided by "
            "their ARR then.",
            "up",
        ),
        _D(
            "segments.time_to_value_days",
            "Time to value",
            "days",
            "over_period",
            "Median days from signup to go-live for customers who went live in the period.",
            "down",
        ),
        _D(
            "segments.tickets_per_account",
            "Tickets per account",
            "count",
            "over_period",
            "Support tickets opened in the period per active customer at its end.",
            "down",
        ),
        _D(
            "csms.response_hours",
            "Response time",
            "hours",
            "over_period",
            "Median hours from a customer's message to the CSM's email reply.",
            "down",
        ),
        _D(
            "csms.health_change",
            "Health change",
            "score",
            "over_period",
            "Mean health at the end minus mean health at the start, over the CSM's customers "
            "scored at both dates.",
            "up",
        ),
        _D(
            "workload.utilization",
            "Capacity utilization",
            "rate",
            "at_end",
            "The larger of accounts / target accounts and ARR / target ARR. Over 100% is over "
            "capacity; under 80% has room.",
            "neutral",
        ),
        _D(
            "csms.team_average.accounts",
            "Accounts per CSM",
            "count",
            "at_end",
            "Team average: the mean number of active customers in a CSM's book on the as-of date.",
            "neutral",
        ),
        _D(
            "csms.team_average.arr",
            "ARR per CSM",
            "money",
            "at_end",
            "Team average: the mean ARR of a CSM's active book on the as-of date.",
            "neutral",
        ),
        _D(
            "csms.team_average.avg_health",
            "Average health (team average)",
            "score",
            "at_end",
            "Team average: the mean over CSMs of each book's average health score (0–100) "
            "on the as-of date.",
            "up",
        ),
        _D(
            "csms.team_average.grr",
            "GRR (team average)",
            "rate",
            "over_period",
            "Team average: the mean over CSMs of gross revenue retention: the ARR kept "
            "from the customers in the book at the start, expansion left out, divided by "
            "their ARR then.",
            "up",
        ),
        _D(
            "csms.team_average.nrr",
            "NRR (team average)",
            "rate",
            "over_period",
            "Team average: the mean over CSMs of net revenue retention: the ARR at the "
            "end of the customers in the book at the start, expansion included, divided "
            "by their ARR then.",
            "up",
        ),
        _D(
            "csms.team_average.expansion_arr",
            "Expansion ARR per CSM",
            "money",
            "over_period",
            "Team average: the mean over CSMs of the ARR added by expansions on their "
            "book in the period.",
            "up",
        ),
        _D(
            "csms.team_average.health_change",
            "Health change (team average)",
            "score",
            "over_period",
            "Team average: the mean over CSMs of the change in their book's average "
            "health from the start to the end, over customers scored at both dates.",
            "up",
        ),
        _D(
            "csms.team_average.response_hours",
            "Response time (team average)",
            "hours",
            "over_period",
            "Team average: the mean over CSMs of each CSM's median hours from a "
            "customer's message to the email reply.",
            "down",
        ),
        _D(
            "csms.team_average.meetings",
            "Meetings per CSM",
            "count",
            "over_period",
            "Team average: the mean number of meetings a CSM held in the period.",
            "up",
        ),
        _D(
            "csms.team_average.emails",
            "Emails per CSM",
            "count",
            "over_period",
            "Team average: the mean number of emails a CSM sent in the period.",
            "up",
        ),
        _D(
            "csms.team_average.tasks_completed",
            "Tasks completed per CSM",
            "count",
            "over_period",
            "Team average: the mean number of tasks a CSM completed in the period.",
            "up",
        ),
        _D(
            "segments.grr",
            "Gross revenue retention",
            "rate",
            "over_period",
            "Of the ARR the segment's customers had the day before the period, the share still "
            "there at its end, counting no growth: churn and contraction lower it.",
            "up",
        ),
        _D(
            "segments.nrr",
            "Net revenue retention",
            "rate",
            "over_period",
            "ARR at the end of the period of the segment's customers active the day before it, "
            "divided by their ARR then: expansion raises it, churn and contraction lower it.",
            "up",
        ),
        _D(
            "segments.tickets",
            "Support tickets",
            "count",
            "over_period",
            "Support tickets the segment's customers opened in the period.",
            "down",
        ),
    )
}


def definition(key: str) -> Definition | None:
    """The definition of a METRICS.md key path; by_segment keys fall back to the base key."""
    if key in DEFINITIONS:
        return DEFINITIONS[key]
    key = re.sub(r"\.rows\.[^.]+\.", ".", key)  # workload.rows.<csm_id>.utilization
    key = key.replace(".team_average.", ".")
    if key in DEFINITIONS:
        return DEFINITIONS[key]
    for seg in ("Enterprise", "Mid-market", "SMB"):  # segments.SMB.grr -> segments.grr
        generic = key.replace(f"segments.{seg}.", "segments.")
        if generic != key and generic in DEFINITIONS:
            return DEFINITIONS[generic]
    for seg in ("Enterprise", "Mid-market", "SMB"):
        key = key.replace(f".by_segment.{seg}", "").replace(f"segments.{seg}.", "portfolio.")
    return DEFINITIONS.get(key)
