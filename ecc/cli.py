"""The ``ecc`` command line.

Every failure a user can fix prints one line, ``ecc: error: ...``, and exits with 2
for a bad argument or setting, 1 for data that cannot be loaded or answered; never a
traceback.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine, select
from sqlalchemy.exc import DBAPIError

from . import filters, paths, variables
from .db import check_schema, describe, init_schema, make_engine, read_only_refusal
from .errors import ConfigError, EccError, LoadError, SchemaError
from .ui.pools import DEFAULT_POOL_SIZE

DB_OPTION = click.option(
    "--db",
    "db_url",
    metavar="URL",
    default=None,
    help="SQLAlchemy database URL (default: $ECC_DATABASE_URL, else data/ecc.sqlite).",
)


def _engine(db_url: str | None, *, must_exist: bool = True) -> Engine:
    engine = make_engine(db_url)
    if must_exist:
        check_schema(engine)
    return engine


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ecc")
def cli() -> None:
    """Executive Command Center: customer-success portfolio metrics for leadership."""


@cli.command("config")
@click.option("--markdown", is_flag=True, help="Print the table of docs/configuration.md.")
def config_command(markdown: bool) -> None:
    """The ECC_* settings in force and where each came from (secrets hidden)."""
    if markdown:
        click.echo(variables.markdown(), nl=False)
        return
    from .config import database_url

    computed = {
        "ECC_HOME": str(paths.home()),
        "ECC_DATABASE_URL": database_url(None),
        "ECC_HUB_DIR": str(paths.hub_dir()),
        "ECC_NOTEBOOKS": str(paths.notebooks_dir()),
    }
    rows = variables.in_force(computed=computed)
    width = max(len(s.name) for s, _, _ in rows)
    group = None
    for setting, shown, source in rows:
        if setting.group != group:
            group = setting.group
            click.echo(f"\n{group}:")
        mark = {"environment": "*", "computed": "~"}.get(source, " ")
        click.echo(f" {mark} {setting.name:<{width}}  {shown}")
    click.echo("\n* set in the environment   ~ worked out here   the others: their default")


@cli.command()
@DB_OPTION
@click.option(
    "--reset", is_flag=True, help="Drop the command-center tables first (deletes all data)."
)
def init(db_url: str | None, reset: bool) -> None:
    """Create the database schema (idempotent)."""
    engine = make_engine(db_url)
    init_schema(engine, reset=reset)
    click.echo(f"schema ready in {describe(engine)}")


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@DB_OPTION
@click.option(
    "--max-problems",
    default=50,
    show_default=True,
    help="Problems to list before counting the rest.",
)
def load(directory: Path, db_url: str | None, max_problems: int) -> None:
    """Load the DATA.md CSV files in DIRECTORY, all or nothing."""
    from .load import load_directory

    engine = make_engine(db_url)
    started = time.perf_counter()
    counts = load_directory(
        engine, directory, progress=sys.stderr.isatty(), max_problems=max_problems
    )
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    detail = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    click.echo(f"loaded {total:,} rows in {elapsed:.1f} s into {describe(engine)} ({detail})")


@cli.command()
@DB_OPTION
@click.option(
    "--customers",
    default=2000,
    show_default=True,
    type=click.IntRange(min=10),
    help="Number of customers.",
)
@click.option(
    "--seed", default=7, show_default=True, type=int, help="Random seed (same seed, same data)."
)
@click.option("--today", default=None, help="Last day of the history, YYYY-MM-DD (default: today).")
@click.option(
    "--csv",
    "csv_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Also keep the generated CSV files in this folder.",
)
@click.option(
    "--if-empty",
    is_flag=True,
    help="Only when the database holds no customers yet (keep data that is there).",
)
def demo(
    db_url: str | None,
    customers: int,
    seed: int,
    today: str | None,
    csv_dir: Path | None,
    if_empty: bool,
) -> None:
    """Create a deterministic synthetic portfolio and load it (replaces the source data)."""
    from .demo import build_demo, generate
    from .load import load_directory
    from .periods import parse_date

    day: date | None = parse_date(today, "--today") if today else None
    engine = make_engine(db_url)
    if if_empty:
        held = _customer_count(engine)
        if held:
            click.echo(f"demo portfolio: keeping the {held:,} customers in {describe(engine)}")
            return
    started = time.perf_counter()
    if csv_dir is not None:
        generate(csv_dir, customers=customers, seed=seed, today=day)
        counts = load_directory(engine, csv_dir, progress=sys.stderr.isatty())
    else:
        counts = build_demo(
            engine, customers=customers, seed=seed, today=day, progress=sys.stderr.isatty()
        )
    elapsed = time.perf_counter() - started
    click.echo(
        f"demo portfolio: {counts.get('customers', 0):,} customers, {counts.get('csms', 0)} CSMs, "
        f"{sum(counts.values()):,} rows in {elapsed:.1f} s -> {describe(engine)}"
    )


def _customer_count(engine: Engine) -> int:
    """Customers in the database (0 when it has no schema yet)."""
    from sqlalchemy import func, inspect

    from .schema import customers as customers_table

    with engine.connect() as conn:
        if "customers" not in inspect(conn).get_table_names():
            return 0
        return int(conn.execute(select(func.count()).select_from(customers_table)).scalar() or 0)


@cli.command()
@DB_OPTION
@filters.options(compare=None)
@click.option(
    "--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Compute from the source tables, ignoring the cache and the snapshots.",
)
def metrics(db_url: str | None, fmt: str, no_cache: bool, **view: str | None) -> None:
    """Every metric of METRICS.md for a period, as JSON or as tables.

    Reads the pre-aggregated cache when the last refresh covered the request and the
    data has not changed since; computes from the source tables otherwise (the same
    numbers either way).
    """
    from .cache import metrics_for
    from .metrics import compute_all

    engine = _engine(db_url)
    with engine.connect() as conn:
        req = filters.Filters.of(view).resolve(conn)
    if no_cache:
        result = compute_all(
            engine, req.period, compare=req.compare, scope=req.scope, snapshots=False
        )
    else:
        result = metrics_for(engine, req.period, compare=req.compare, scope=req.scope).data
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        from .terminal import render

        render(result)


@cli.command()
@DB_OPTION
@click.option(
    "--full",
    is_flag=True,
    help="Recompute the whole cache, also when the data has not changed.",
)
@click.option(
    "--rebuild-snapshots",
    is_flag=True,
    help="Also rebuild every month-end snapshot (the owners recorded are kept).",
)
@click.option(
    "--every",
    "every",
    type=click.IntRange(min=1),
    default=None,
    metavar="MINUTES",
    help="Keep running and refresh every MINUTES (FR-2 asks for 15).",
)
@click.option("--status", is_flag=True, help="Show the last refresh runs and exit.")
def refresh(
    db_url: str | None, full: bool, rebuild_snapshots: bool, every: int | None, status: bool
) -> None:
    """Pre-aggregate every dashboard's metrics into the cache (dashboard_metrics)."""
    from .cache.jobs import print_status, refresh_every, refresh_once

    engine = _engine(db_url)
    if status:
        print_status(engine)
    elif every is not None:
        refresh_every(engine, minutes=every, full=full)
    else:
        refresh_once(engine, full=full, rebuild_snapshots=rebuild_snapshots)


@cli.command()
@click.argument("notebooks", nargs=-1)
@DB_OPTION
@click.option("--all", "board_pack", is_flag=True, help="Every dashboard: the board pack.")
@filters.options(compare="previous")
@click.option(
    "--format",
    "formats",
    default="html,pdf,xlsx",
    show_default=True,
    help="Comma-separated: html, pdf, xlsx.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder for the files (default: outputs/ under the project root).",
)
def report(
    notebooks: tuple[str, ...],
    db_url: str | None,
    board_pack: bool,
    formats: str,
    out: Path | None,
    **view: str | None,
) -> None:
    """Run dashboard notebooks with papermill and write HTML, PDF and Excel reports."""
    from .reports.build import make_report
    from .reports.params import BOARD_PACK

    names = list(BOARD_PACK) if board_pack else list(notebooks)
    if not names:
        raise ConfigError(
            "name the dashboards to report on (e.g. `ecc report risk renewals`) or give --all"
        )
    fmts = tuple(f.strip() for f in formats.split(",") if f.strip())
    folder = out if out is not None else paths.outputs_dir()
    result = make_report(_engine(db_url), names, filters.Filters.of(view), out=folder, formats=fmts)
    for f in result.files:
        click.echo(str(f))
    click.echo(f"{len(result.sections)} page(s) in {result.timings['total']:.1f} s", err=True)


@cli.command()
@DB_OPTION
@click.option(
    "--schedules",
    "folder",
    type=click.Path(path_type=Path),
    default=None,
    help="The folder of schedule files (*.yaml; default: the project's schedules/).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Where runs write their files (<schedule>/<run id>/; default: outputs/scheduled/).",
)
@click.option(
    "--notebooks",
    type=click.Path(path_type=Path),
    default=None,
    help="The dashboard notebooks folder (default: the project's notebooks/).",
)
@click.option("--check", is_flag=True, help="Validate the schedule files and exit.")
@click.option(
    "--list", "show", is_flag=True, help="Show schedules, next and last runs, unsent mail; exit."
)
@click.option(
    "--run-now", metavar="NAME", default=None, help="Run one schedule now, mail it, exit."
)
@click.option(
    "--resend",
    metavar="MAIL_ID",
    type=int,
    default=None,
    help="Send a failed mail again (the same message and Message-ID); exit.",
)
def scheduler(
    db_url: str | None,
    folder: Path | None,
    out: Path | None,
    notebooks: Path | None,
    check: bool,
    show: bool,
    run_now: str | None,
    resend: int | None,
) -> None:
    """Run the report schedules and email the reports (ECC_SMTP_URL); one per database."""
    import logging

    from .mail.settings import mail_settings
    from .reports.execute import NOTEBOOKS_DIR
    from .schedule.config import find_schedule, load_schedules
    from .schedule.runner import RunContext

    folder = folder if folder is not None else paths.schedules_dir()
    out = out if out is not None else paths.outputs_dir() / "scheduled"
    schedules = load_schedules(folder)
    if check:
        for s in schedules:
            state = "" if s.enabled else " (disabled)"
            click.echo(f"{s.path}: {s.name}: {s.cron} ({s.timezone}), ok{state}")
        return
    settings = mail_settings()
    engine = _engine(db_url)
    from .schedule.subscriptions import schedules as subscribed

    files, schedules = schedules, [*schedules, *subscribed(engine)]  # and the pages' ones
    if show:
        from .schedule.status import print_status

        print_status(engine, schedules, click.echo)
        return
    if resend is not None:
        from .mail import outbox

        outbox.resend(engine, resend)
        settings.require_smtp()
        for d in outbox.deliver(engine, settings, ids=[resend]):
            click.echo(f"mail {d.mail_id} {d.status}" + (f": {d.error}" if d.error else ""))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("papermill").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors.mail").setLevel(logging.WARNING)  # every minute
    settings.require_smtp()
    ctx = RunContext(engine=engine, mail=settings, out=out, notebooks=notebooks or NOTEBOOKS_DIR)
    if run_now is not None:
        from .schedule.runner import run_schedule

        result = run_schedule(ctx, find_schedule(schedules, run_now, folder))
        if result.status == "failed":
            raise EccError(f"schedule {run_now} failed (run {result.run_id}): {result.error}")
        click.echo(f"run {result.run_id} {result.status} in {result.seconds:.1f} s")
        for f in result.files:
            click.echo(str(f))
        for d in result.deliveries:
            if d.status == "sent":
                click.echo(f"mail {d.mail_id} sent")
            else:
                click.echo(
                    f"mail {d.mail_id} not sent yet ({d.error}); `ecc scheduler` retries it",
                    err=True,
                )
        return
    from .schedule.service import serve as run_scheduler

    def say(line: str) -> None:
        click.echo(line)
        sys.stdout.flush()

    run_scheduler(ctx, files, say=say)  # it reads the subscriptions itself, and again


@cli.command()
@DB_OPTION
@click.option("--port", default=8866, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option(
    "--notebooks",
    type=click.Path(path_type=Path),
    default=None,
    help="The dashboard notebooks folder (default: the project's notebooks/).",
)
@click.option("--no-preheat", is_flag=True, help="Start kernels on request (slower pages).")
@click.option(
    "--pool-size",
    default=DEFAULT_POOL_SIZE,
    show_default=True,
    type=int,
    help="Preheated kernels per notebook (the landing page keeps at least 2).",
)
@click.option(
    "--refresh-every",
    "refresh_every",
    default=15,
    show_default=True,
    type=click.IntRange(min=0),
    metavar="MINUTES",
    help="Refresh the metrics cache at start and every MINUTES (0: never).",
)
@click.option(
    "--log",
    type=click.Path(path_type=Path),
    default=None,
    help="Voilà's and its kernels' log (default: data/serve.log under the project root).",
)
def serve(
    db_url: str | None,
    port: int,
    notebooks: Path | None,
    no_preheat: bool,
    pool_size: int,
    refresh_every: int,
    log: Path | None,
) -> None:
    """Serve the dashboards with Voilà (preheated kernels) on 127.0.0.1."""
    from .ui.serve import serve as run

    _engine(db_url)  # a clear message now rather than on every page
    sys.exit(
        run(
            notebooks if notebooks is not None else paths.notebooks_dir(),
            port=port,
            db_url=db_url,
            preheat=not no_preheat,
            pool_size=pool_size,
            refresh_minutes=refresh_every,
            log=log,
        )
    )


@cli.group()
def share() -> None:
    """Read-only share links to a frozen report, for people without an account."""


SHARE_PORT = 8877


@share.command("create")
@click.argument("report", type=click.Path(path_type=Path))
@DB_OPTION
@click.option("--days", default=7.0, show_default=True, type=float, help="Days until it expires.")
@click.option("--title", default=None, help="A name for the link (default: the file's).")
@click.option(
    "--base-url",
    default=f"http://127.0.0.1:{SHARE_PORT}",
    show_default=True,
    help="Where `ecc share serve` is reached.",
)
def share_create(
    report: Path, db_url: str | None, days: float, title: str | None, base_url: str
) -> None:
    """Freeze an HTML report (from `ecc report`) behind a signed, expiring link."""
    from .share.links import create_link

    link = create_link(_engine(db_url), report, days=days, title=title)
    click.echo(f"{base_url.rstrip('/')}/share/{link.token}")
    click.echo(f"link {link.link_id} expires {link.expires_at:%Y-%m-%d %H:%M} UTC", err=True)


@share.command("revoke")
@click.argument("link_id")
@DB_OPTION
def share_revoke(link_id: str, db_url: str | None) -> None:
    """Withdraw a link at once."""
    from .share.links import revoke_link

    revoke_link(_engine(db_url), link_id)
    click.echo(f"link {link_id} revoked")


@share.command("list")
@DB_OPTION
def share_list(db_url: str | None) -> None:
    """The links, newest first."""
    from .share.links import list_links

    for r in list_links(_engine(db_url)):
        state = "revoked" if r["revoked_at"] else f"expires {r['expires_at']:%Y-%m-%d %H:%M}"
        click.echo(f"{r['link_id']}\t{r['title']}\t{state}")


@share.command("serve")
@DB_OPTION
@click.option("--port", default=SHARE_PORT, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option(
    "--prefix",
    default="/",
    show_default=True,
    help="The path it is reached under (behind the hub: /services/links/).",
)
def share_serve(db_url: str | None, port: int, prefix: str) -> None:
    """Serve share links (and nothing else) on 127.0.0.1."""
    from .share.server import serve as run

    run(_engine(db_url), port=port, prefix=prefix)


@cli.command("audit")
@DB_OPTION
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def audit_command(db_url: str | None, limit: int, as_json: bool) -> None:
    """The audit trail, newest first: who shared, withdrew, subscribed, changed, paused,
    resumed, removed or approved what from the pages, and set alert mail, and when (UTC).

    The dashboards may append to it and never read it back: it is read here, on the
    server, with the database owner's rights."""
    import json

    from .audit import events

    with _engine(db_url).connect() as conn:
        found = events(conn, limit=limit)
    for e in found:
        if as_json:
            click.echo(json.dumps(e | {"at": f"{e['at']:%Y-%m-%dT%H:%M:%S}Z"}, sort_keys=True))
        else:
            detail = ", ".join(f"{k}={v}" for k, v in sorted(e["detail"].items()) if v)
            click.echo(
                f"{e['at']:%Y-%m-%d %H:%M:%S}\t{e['actor']}\t{e['action']}\t{e['subject']}"
                + (f"\t{detail}" if detail else "")
            )
    if not found and not as_json:
        click.echo("The audit trail is empty: nothing was shared or subscribed yet.", err=True)


@cli.group()
def hub() -> None:
    """The front door: JupyterHub login and roles, the dashboards behind it (ECC_HUB_*)."""


@hub.command("start")
@click.option(
    "--demo-users/--no-demo-users",
    default=True,
    show_default=True,
    help="Create (or reset) the accounts vp, admin and analyst with new passwords.",
)
def hub_start(demo_users: bool) -> None:
    """Run JupyterHub, its proxy and the services of jupyterhub_config.py until Ctrl-C."""
    from .hub.settings import hub_settings
    from .hub.stack import start

    sys.exit(start(hub_settings(), demo_users=demo_users))


@hub.command("add-user")
@click.argument("name")
@click.option(
    "--group",
    "groups",
    multiple=True,
    required=True,
    help="vp, admin or analyst (repeatable); any other group grants nothing.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def hub_add_user(name: str, groups: tuple[str, ...], password_stdin: bool) -> None:
    """Create or reset a local account (ECC_HUB_AUTH=native) while the hub is stopped;
    prints the generated password unless one is given on standard input."""
    from .hub.logins import add_account, hub_running
    from .hub.settings import hub_settings

    settings = hub_settings()
    pid = hub_running(settings)
    if pid:
        raise ConfigError(
            f"the hub is running (pid {pid}): stop it first, or let the person sign up "
            "at /hub/signup and authorize them at /hub/authorize"
        )
    given = sys.stdin.readline().strip() if password_stdin else None
    password = add_account(settings, name, groups, given)
    click.echo(f"{name.lower()}\t{', '.join(groups)}" + ("" if given else f"\t{password}"))


@hub.command("dashboards", hidden=True)
def hub_dashboards() -> None:
    """The dashboards service (started by the hub, not by hand)."""
    from .hub.dashboards import main as run

    run()


@cli.command("mail-sink")
@click.option("--port", default=8025, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option(
    "--dir",
    "folder",
    default=None,
    type=click.Path(path_type=Path),
    help="Where each message is written (.eml, and .html for its HTML part; default: "
    "data/mail/ under the project root).",
)
def mail_sink(port: int, folder: Path | None) -> None:
    """A local SMTP server for the demo: keeps every message as files, sends nothing on."""
    import logging

    from .mail.sink import serve as serve_sink

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    serve_sink(port, (folder if folder is not None else paths.mail_dir()).resolve())


def _add_alerts() -> None:
    from .alerts.cli import alerts

    cli.add_command(alerts)


_add_alerts()


@cli.command("csms")
@DB_OPTION
def list_csms(db_url: str | None) -> None:
    """List the CSMs (ids for --csm)."""
    from .schema import csms as csms_table

    engine = _engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                csms_table.c.csm_id, csms_table.c.name, csms_table.c.segment, csms_table.c.active
            ).order_by(csms_table.c.segment, csms_table.c.name)
        ).all()
    for r in rows:
        status = "" if r.active else "\t(inactive)"
        click.echo(f"{r.csm_id}\t{r.name}\t{r.segment}{status}")


def _fail(message: str, code: int) -> None:
    first, *rest = message.splitlines() or [""]
    # a service of the hub's stack names itself, so the launcher can say which one failed
    service = variables.value("ECC_SERVICE")
    click.echo(f"ecc{' ' + service if service else ''}: error: {first}", err=True)
    for line in rest:
        click.echo(line, err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the CLI and turn every user-fixable failure into one clear message."""
    # what the command center writes (the database, the hub's state, reports, mail) is
    # its owner's alone; processes it starts (the hub, services, kernels) inherit this
    os.umask(0o077)
    try:
        return cli.main(args=argv, prog_name="ecc", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.ClickException as exc:
        _fail(exc.format_message(), 2)
    except (ConfigError, SchemaError) as exc:
        _fail(str(exc), 2)
    except LoadError as exc:
        _fail(str(exc), 1)
    except EccError as exc:
        _fail(str(exc), 1)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except DBAPIError as exc:
        if not read_only_refusal(exc):
            raise
        _fail(
            "this database is read-only for you (analysts read the source tables and the "
            "published numbers, and change nothing): acknowledging alerts, loading data, "
            "refreshing and sharing are done by the command center's own processes",
            2,
        )
    return None


if __name__ == "__main__":  # pragma: no cover
    main()
