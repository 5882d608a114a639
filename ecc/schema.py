"""The database schema: the source tables of DATA.md and the project's own tables.

Money and health scores are decimals with two places. PostgreSQL stores them as
``numeric``; SQLite has no exact decimal type, so there they are stored as whole
hundredths (cents) in an INTEGER column. :class:`Fixed2` hides the difference:
Python always sees :class:`decimal.Decimal`, sums are exact on both databases, and
every metric is identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Bumped whenever a table changes shape; ``ecc init`` records it, every connection checks it.
SCHEMA_VERSION = 9

_CENT = Decimal("0.01")


class Fixed2(TypeDecorator[Decimal]):
    """A decimal with two places: ``numeric(p, 2)`` on PostgreSQL, integer hundredths on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 14) -> None:
        super().__init__()
        self.precision = precision

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        dec = value if isinstance(value, Decimal) else Decimal(str(value))
        if dialect.name == "sqlite":
            return int((dec * 100).to_integral_value())
        return dec

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(_CENT)
        return Decimal(value).quantize(_CENT)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


def Money() -> Fixed2:
    return Fixed2(14)


def Score() -> Fixed2:
    return Fixed2(5)


metadata = MetaData()

# ---------------------------------------------------------------- source tables (DATA.md)

csms = Table(
    "csms",
    metadata,
    Column("csm_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("segment", String(16), nullable=False),
    Column("target_accounts", Integer, nullable=False),
    Column("target_arr", Money(), nullable=False),
    Column("active", Boolean, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("segment", String(16), nullable=False),
    Column("csm_id", String(64), ForeignKey("csms.csm_id"), nullable=False),
    Column("signup_date", Date, nullable=False),
    Column("onboarded_on", Date),
    Column("industry", Text),
    Column("region", Text),
    Index("ix_customers_csm", "csm_id"),
    Index("ix_customers_segment", "segment"),
)

arr_events = Table(
    "arr_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False),
    Column("event_date", Date, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("arr_delta", Money(), nullable=False),
    Column("expansion_type", String(16)),
    Index("ix_arr_events_customer_date", "customer_id", "event_date"),
    Index("ix_arr_events_date", "event_date"),
)

health_scores = Table(
    "health_scores",
    metadata,
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False),
    Column("scored_on", Date, nullable=False),
    Column("score", Score(), nullable=False),
    PrimaryKeyConstraint("customer_id", "scored_on", name="pk_health_scores"),
    Index("ix_health_scores_date", "scored_on"),
)

renewals = Table(
    "renewals",
    metadata,
    Column("renewal_id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("arr", Money(), nullable=False),
    Column("forecast_status", String(16), nullable=False),
    Column("outcome", String(16)),
    Column("closed_on", Date),
    Column("renewed_arr", Money()),
    Index("ix_renewals_customer", "customer_id"),
    Index("ix_renewals_due", "due_on"),
)

expansion_opportunities = Table(
    "expansion_opportunities",
    metadata,
    Column("opportunity_id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("created_on", Date, nullable=False),
    Column("expected_close_on", Date, nullable=False),
    Column("outcome", String(8)),
    Column("closed_on", Date),
    Index("ix_opportunities_customer", "customer_id"),
)

save_plays = Table(
    "save_plays",
    metadata,
    Column("play_id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False),
    Column("csm_id", String(64), ForeignKey("csms.csm_id"), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("outcome", String(8)),
    Column("closed_on", Date),
    Index("ix_save_plays_customer", "customer_id"),
    Index("ix_save_plays_csm", "csm_id"),
)

activities = Table(
    "activities",
    metadata,
    Column("activity_id", String(64), primary_key=True),
    Column("csm_id", String(64), ForeignKey("csms.csm_id"), nullable=False),
    Column("customer_id", String(64), ForeignKey("customers.customer_id")),
    Column("kind", String(16), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("completed", Boolean, nullable=False),
    Column("response_hours", Float),
    Index("ix_activities_csm_date", "csm_id", "occurred_on"),
    Index("ix_activities_date", "occurred_on"),
    Index("ix_activities_customer", "customer_id"),
)

support_tickets = Table(
    "support_tickets",
    metadata,
    Column("ticket_id", String(64), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.customer_id"), nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("first_response_at", DateTime),
    Column("resolved_at", DateTime),
    Column("priority", String(8), nullable=False),
    Index("ix_tickets_customer", "customer_id"),
    Index("ix_tickets_opened", "opened_at"),
)

targets = Table(
    "targets",
    metadata,
    Column("metric", String(32), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("segment", String(16)),
    Column("value", Numeric(18, 6, asdecimal=False), nullable=False),
    Index("ix_targets_metric", "metric"),
)

#: Source tables in load order (parents before children).
SOURCE_TABLES: tuple[Table, ...] = (
    csms,
    customers,
    arr_events,
    health_scores,
    renewals,
    expansion_opportunities,
    save_plays,
    activities,
    support_tickets,
    targets,
)

# ---------------------------------------------------------------- the project's own tables

ecc_meta = Table(
    "ecc_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

dashboard_metrics = Table(
    "dashboard_metrics",
    metadata,
    # one row per (request, area): the kept results (area_results) of the area's values
    # and comparison values; a request's ``_meta`` row holds its JSON in ``payload``
    Column("cache_key", String(255), nullable=False),
    Column("area", String(32), nullable=False),
    Column("payload", Text),
    Column("value_ref", String(32)),
    Column("comparison_ref", String(32)),
    Column("data_version", String(64), nullable=False),  # ecc_meta data_version it reflects
    Column("data_as_of", Date, nullable=False),  # the request's ``today``
    Column("computed_at", DateTime, nullable=False),
    PrimaryKeyConstraint("cache_key", "area", name="pk_dashboard_metrics"),
)

refresh_runs = Table(
    "refresh_runs",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # full | incremental
    Column("status", String(16), nullable=False),  # running | succeeded | failed
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("data_version", String(64)),
    Column("data_as_of", Date),
    Column("entries", Integer),  # cache rows written
    Column("reused", Integer),  # cache rows carried over unchanged
    Column("snapshots", Integer),  # month ends (re)built
    Column("seconds", Float),
    Column("error", Text),
)

month_end_snapshots = Table(
    "month_end_snapshots",
    metadata,
    # per customer at each closed month end: ARR, health and the owner and segment then
    Column("month_end", Date, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("arr", Money(), nullable=False),
    Column("score", Score()),
    Column("csm_id", String(64), nullable=False),
    Column("segment", String(16), nullable=False),
    PrimaryKeyConstraint("month_end", "customer_id", name="pk_month_end_snapshots"),
)

snapshot_months = Table(
    "snapshot_months",
    metadata,
    # one row per snapshotted month end, with the fingerprint of the source rows it read
    Column("month_end", Date, primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("taken_at", DateTime, nullable=False),
    Column("rebuilt_at", DateTime),
)

leaderboard_history = Table(
    "leaderboard_history",
    metadata,
    # the nightly CSM leaderboard (FR-9): one row per CSM per ranking day
    Column("ranked_on", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("csm_id", String(64), nullable=False),
    Column("segment", String(16)),
    Column("rank", Integer, nullable=False),
    Column("nrr_rank", Integer, nullable=False),
    Column("expansion_rank", Integer, nullable=False),
    Column("health_rank", Integer, nullable=False),
    Column("nrr", Float),
    Column("expansion_arr", Float, nullable=False),
    Column("health_change", Float),
    Column("recorded_at", DateTime, nullable=False),
    PrimaryKeyConstraint("ranked_on", "csm_id", name="pk_leaderboard_history"),
)

share_links = Table(
    "share_links",
    metadata,
    # a frozen report shared read-only with someone without an account
    Column("link_id", String(32), primary_key=True),
    Column("title", Text, nullable=False),
    Column("html", Text, nullable=False),  # the snapshot, as it was when shared
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(128)),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

view_links = Table(
    "view_links",
    metadata,
    # one dashboard view shared read-only from the page (the Share button): ``frozen`` keeps
    # the page as it was, ``live`` recomputes the same view from the cache when opened
    Column("link_id", String(32), primary_key=True),  # how the link is listed and revoked
    # the token in the address is never stored: only its SHA-256 (a database reader cannot
    # open a link)
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("page", String(64), nullable=False),
    Column("params", Text, nullable=False),  # the view's query string (period, filters)
    Column("kind", String(8), nullable=False),  # frozen | live
    Column("title", Text, nullable=False),
    Column("html", Text),  # the frozen page; none for a live link
    Column("note", Text),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("revoked_by", String(128)),
    Column("views", Integer, nullable=False, default=0),
    Column("last_opened_at", DateTime),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    # "email me (and these people) this view", made from a page (ecc.schedule.subscriptions)
    Column("sub_id", Integer, primary_key=True, autoincrement=True),
    Column("owner", String(128), nullable=False),
    Column("page", String(64), nullable=False),
    Column("params", Text, nullable=False),  # the view's query string
    Column("formats", String(32), nullable=False),  # pdf,xlsx
    Column("cron", String(64), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("recipients", Text, nullable=False),  # comma-separated addresses
    Column("fan_out", String(8)),  # segment | csm | none
    Column("by_segment", Text, nullable=False),  # JSON: segment -> addresses
    Column("state", String(16), nullable=False),  # active | paused | pending | removed
    Column("approved_by", String(128)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    # who did what from the pages, when (ecc.audit): shared or withdrew a link, subscribed,
    # changed, paused, resumed, removed or approved a subscription; appended, never changed
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("detail", Text, nullable=False),  # JSON
    Index("ix_audit_events_at", "at"),
    # written by a role that may not read it back: no INSERT ... RETURNING
    implicit_returning=False,
)

executive_alerts = Table(
    "executive_alerts",
    metadata,
    Column("alert_id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("subject_type", String(16), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("fired_on", Date, nullable=False),
    Column("message", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("acknowledged_by", Text),
    Column("acknowledged_at", DateTime),
    UniqueConstraint("rule", "subject_id", "fired_on", name="uq_alert_once_per_day"),
)

report_runs = Table(
    "report_runs",
    metadata,
    # one run of a scheduled report (`ecc scheduler`, `--run-now`): what it reflects and made
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("schedule", String(64), nullable=False),
    Column("trigger", String(16), nullable=False),  # scheduled | manual
    Column("due_at", DateTime),  # the cron time it ran for (UTC); NULL for a manual run
    Column("status", String(16), nullable=False),  # running | succeeded | failed | interrupted
    Column("parameters", Text, nullable=False),  # JSON: explicit dates, comparison, filters
    Column("data_as_of", Date),
    Column("code_version", String(128), nullable=False),
    Column("files", Text),  # JSON list of the files written
    Column("error", Text),
    Column("failed_notebook", String(64)),
    Column("failed_cell", Integer),
    Column("runner", String(128), nullable=False),  # host:pid of the process that ran it
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    # a cron time is run once, also when a scheduler restarts mid-way
    UniqueConstraint("schedule", "due_at", name="uq_report_run_once_per_due_time"),
)

mail_outbox = Table(
    "mail_outbox",
    metadata,
    # every message to send, recorded before it is sent (at most once; retried with backoff)
    Column("mail_id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("report_runs.run_id")),
    Column("kind", String(16), nullable=False),  # report | admin
    Column("message_id", String(255), nullable=False, unique=True),  # the Message-ID header
    Column("sender", Text, nullable=False),
    Column("recipients", Text, nullable=False),  # JSON list (the SMTP envelope)
    Column("subject", Text, nullable=False),
    Column("message", LargeBinary, nullable=False),  # the whole MIME message, as sent
    Column("status", String(16), nullable=False),  # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("claimed_by", String(128)),
    Column("claimed_at", DateTime),
    Column("sent_at", DateTime),
    Column("last_error", Text),
    Index("ix_mail_outbox_due", "status", "next_attempt_at"),
)

alert_subscribers = Table(
    "alert_subscribers",
    metadata,
    # who hears of executive alerts by email, and how: immediate (critical alerts as they
    # are recorded), daily or weekly digests of every new alert
    Column("email", String(254), primary_key=True),
    Column("name", Text),
    Column("cadence", String(16), nullable=False),  # immediate | daily | weekly
    Column("subscribed_at", DateTime, nullable=False),  # alerts recorded before: not mailed
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    # which alert went to whom in which mail: the primary key makes it once per person
    Column("email", String(254), primary_key=True),
    Column("alert_id", Integer, ForeignKey("executive_alerts.alert_id"), primary_key=True),
    Column("mail_id", Integer, ForeignKey("mail_outbox.mail_id"), nullable=False),
)

source_digests = Table(
    "source_digests",
    metadata,
    # what the last load held, per source table and day (DAY_KEYS in ecc/changes.py): the
    # number of rows and a digest of their cells; a table without a day key has one row
    # on WHOLE_TABLE. The next load compares its own with these to tell what it changed.
    Column("table_name", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("digest", String(32), nullable=False),
    PrimaryKeyConstraint("table_name", "day", name="pk_source_digests"),
)

source_changes = Table(
    "source_changes",
    metadata,
    # one row per load: what it changed relative to the data version before it, as JSON
    # {table: earliest changed day | "all"}; a table it left as it was is not named
    Column("data_version", String(64), primary_key=True),
    Column("previous_version", String(64)),
    Column("changes", Text, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)

area_results = Table(
    "area_results",
    metadata,
    # one metric area for one period, comparison, scope and settings, kept between
    # refreshes: a refresh reuses it while no source row it could read has changed
    Column("result_key", String(64), primary_key=True),  # a digest of ``key``
    Column("key", Text, nullable=False),  # JSON: area, dates, scope, comparison, settings
    Column("area", String(32), nullable=False),
    Column("reads_until", Date, nullable=False),  # the latest day any of its rows can have
    Column("data_version", String(64), nullable=False),  # the data it was computed from
    Column("code", String(32), nullable=False),  # the metric code that computed it
    Column("payload", Text, nullable=False),
    Column("computed_at", DateTime, nullable=False),
)

partial_results = Table(
    "partial_results",
    metadata,
    # a result shared inside a refresh (a date's customer summaries, a range's sums, a
    # segment-grouped query), kept for the next refresh while nothing it reads changed
    Column("result_key", String(64), primary_key=True),  # a digest of key, code, settings
    Column("key", Text, nullable=False),  # its repr, for people
    Column("reads_until", Date, nullable=False),  # the latest date in its key
    Column("data_version", String(64), nullable=False),
    Column("value", LargeBinary, nullable=False),  # pickled
    Column("computed_at", DateTime, nullable=False),
)


kept_states = Table(
    "kept_states",
    metadata,
    # a date whose customer state (ARR and health per customer) a refresh computed, kept
    # for the next refresh while no ledger or score row dated on or before it changed
    Column("as_of", Date, primary_key=True),
    Column("data_version", String(64), nullable=False),
    Column("code", String(64), nullable=False),  # the metric code's digest
    Column("kept_at", DateTime, nullable=False),
)

kept_state_rows = Table(
    "kept_state_rows",
    metadata,
    # per customer with ARR or a score at a kept date (the others have neither)
    Column("as_of", Date, nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("arr", Money(), nullable=False),
    Column("score", Score()),
    PrimaryKeyConstraint("as_of", "customer_id", name="pk_kept_state_rows"),
)
