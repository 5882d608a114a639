"""``schedules/*.yaml``: one report schedule per file, validated strictly.

A schedule file::

    name: weekly-leadership          # optional; the file's name without .yaml
    description: Board pack for the Monday leadership meeting
    cron: "0 7 * * 1"                # minute hour day-of-month month day-of-week (1 = Monday)
    timezone: Europe/London          # IANA name; default UTC
    notebooks: board_pack            # board_pack, one dashboard, or a list of them
    parameters:                      # what `ecc report` takes; default this_quarter vs previous
      preset: this_quarter           # or start: / end: (YYYY-MM-DD), a fixed range
      today: data                    # presets count from: data | run_date | YYYY-MM-DD
      compare: previous              # previous | yoy | none
      segment: Enterprise            # optional
      csm: csm-007                   # optional (checked against the data at each run)
    formats: [pdf, xlsx]             # pdf | xlsx | html; default [pdf]
    recipients: [vp-cs@example.com]
    subject: "Weekly leadership report: {period}"   # {name} {title} {period} {data_as_of}
    enabled: true                    # false keeps the file but takes the job out

Every problem of every file is reported in one pass as ``file: field: what is wrong;
how to fix it`` (:class:`ScheduleConfigError`).
"""

from __future__ import annotations

import difflib
import re
import string
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ..config import SEGMENTS
from ..errors import ConfigError
from ..filters import NAMES, Filters
from ..periods import COMPARE_KINDS, PRESETS
from ..reports.build import FORMATS
from ..reports.params import BOARD_PACK, REPORTABLE
from ..ui.notebooks import NOTEBOOKS

FIELDS = (
    "name",
    "description",
    "cron",
    "timezone",
    "notebooks",
    "parameters",
    "formats",
    "recipients",
    "subject",
    "enabled",
)
#: What presets count from: the latest date with data (as `ecc report` does; the default),
#: the day the schedule fires in its time zone, or a fixed date.
TODAY_WORDS = ("data", "run_date")
SUBJECT_FIELDS = ("name", "title", "period", "data_as_of")
DEFAULT_SUBJECT = "{title}: {period}"
BOARD_PACK_WORDS = ("board_pack", "all")
#: How the subscriptions' schedules are named (``sub-<id>``): not for a schedule file.
SUBSCRIPTION_PREFIX = "sub-"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+$")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 = Sunday
CRON_HELP = (
    "give five fields, minute hour day-of-month month day-of-week, in quotes, "
    'e.g. "0 7 * * 1" (Mondays at 07:00)'
)


class _Loader(yaml.SafeLoader):
    """YAML's safe loader with dates kept as text (checked here, with a message of ours)."""


def _date_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _date_as_text)


class ScheduleConfigError(ConfigError):
    """One or more schedule files are invalid; ``problems`` lists each as one line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = list(problems)
        if len(problems) > 1:
            lines.append(f"{len(problems)} problems in the schedule files; nothing was scheduled")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Schedule:
    """A validated schedule."""

    name: str
    path: Path
    cron: str
    timezone: str
    notebooks: tuple[str, ...]
    params: Filters
    formats: tuple[str, ...]
    recipients: tuple[str, ...]
    today: str = "data"  # data | run_date | YYYY-MM-DD
    subject: str = DEFAULT_SUBJECT
    description: str = ""
    enabled: bool = True

    def trigger(self) -> Any:
        """The APScheduler CronTrigger of ``cron`` in ``timezone``."""
        return cron_trigger(self.cron, self.timezone)

    @property
    def job_id(self) -> str:
        return f"report:{self.name}"


# ---------------------------------------------------------------- cron


def _weekday_field(value: str) -> str:
    """A crontab day-of-week field in APScheduler's words.

    Crontab counts 0 (and 7) as Sunday and 1 as Monday; APScheduler 3 counts 0 as Monday.
    Numbers are therefore turned into day names (``1-5`` -> ``mon,tue,wed,thu,fri``); names
    (``mon-fri``) mean the same to both and are kept.
    """
    if value == "*":
        return value
    kept: list[str] = []
    days: set[int] = set()
    for token in value.split(","):
        if re.search(r"[A-Za-z]", token):
            kept.append(token)
            continue
        m = re.fullmatch(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?", token)
        if not m:
            raise ValueError(f"day-of-week {token!r} is not a number, range or day name")
        span, step = m.group(1), int(m.group(2) or 1)
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (int(x) for x in span.split("-"))
        else:
            first = last = int(span)
            if m.group(2):  # "N/step": from N through Saturday
                last = 6
        if not (0 <= first <= 7 and 0 <= last <= 7) or last < first or step < 1:
            raise ValueError(f"day-of-week {token!r} is out of range (0-7, 0 and 7 are Sunday)")
        days.update(d % 7 for d in range(first, last + 1, step))
    if len(days) == 7 and not kept:
        return "*"
    return ",".join(kept + [WEEKDAYS[d] for d in sorted(days)])


def cron_trigger(expr: str, timezone: str) -> Any:
    """A CronTrigger for a five-field crontab expression; ValueError says what is wrong."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"it has {len(fields)} field(s), not 5")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekday_field(weekday),
        timezone=ZoneInfo(timezone),
    )


# ---------------------------------------------------------------- one file


@dataclass
class _File:
    path: Path
    problems: list[str] = field(default_factory=list)

    def bad(self, name: str, message: str) -> None:
        self.problems.append(f"{self.path}: {name}: {message}")

    def unknown(self, where: str, keys: list[str], allowed: tuple[str, ...]) -> None:
        for key in keys:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            self.bad(
                f"{where}{key}",
                f"unknown field; {hint}the fields are: {', '.join(allowed)}",
            )


def _strings(f: _File, name: str, value: Any) -> list[str] | None:
    """A string or a list of strings, as a list; None (with a problem) otherwise."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and v.strip() for v in items):
        f.bad(name, "give a name or a list of names, e.g. [a, b]")
        return None
    return [v.strip() for v in items]


def _notebooks(f: _File, value: Any) -> tuple[str, ...]:
    names = _strings(f, "notebooks", value)
    if names is None:
        return ()
    if len(names) == 1 and names[0] in BOARD_PACK_WORDS:
        return BOARD_PACK
    choose = f"choose from: {', '.join(BOARD_PACK)}, or board_pack for all of them"
    for n in names:
        if n not in REPORTABLE:
            hint = " is a drill-down page, not a report;" if n in NOTEBOOKS else ";"
            f.bad("notebooks", f"unknown dashboard {n!r}{hint} {choose}")
    if len(set(names)) != len(names):
        f.bad("notebooks", "a dashboard is listed twice; name each once")
    return tuple(n for n in BOARD_PACK if n in names)


def _date(f: _File, name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        f.bad(name, f"{value!r} is not a date; write YYYY-MM-DD")
        return None


def _today(f: _File, value: Any) -> str:
    value = value.get("today", "data") if isinstance(value, dict) else "data"
    if value in TODAY_WORDS:
        return str(value)
    if isinstance(value, date) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
        return _date(f, "parameters.today", value) or "data"
    f.bad(
        "parameters.today",
        f"{value!r} is neither data, run_date nor a date (YYYY-MM-DD); data counts presets "
        "from the latest date with data, run_date from the day the schedule fires",
    )
    return "data"


def _parameters(f: _File, value: Any) -> Filters:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        f.bad("parameters", "give a mapping, e.g. {preset: last_month, compare: previous}")
        return Filters()
    f.unknown("parameters.", [k for k in value if k not in NAMES], NAMES)
    start = _date(f, "parameters.start", value.get("start"))
    end = _date(f, "parameters.end", value.get("end"))
    preset = value.get("preset")
    if start is not None or end is not None or "start" in value or "end" in value:
        if preset is not None:
            f.bad("parameters", "give either preset or start and end, not both")
        if value.get("start") is None or value.get("end") is None:
            f.bad("parameters", "a fixed range needs both start and end (YYYY-MM-DD)")
        elif start and end and end < start:
            f.bad("parameters.end", f"{end} is before the start {start}; swap them")
    else:
        preset = "this_quarter" if preset is None else preset
        if preset not in PRESETS:
            f.bad(
                "parameters.preset",
                f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}",
            )
    compare = value.get("compare", "previous")
    if compare in (None, False, "none", ""):
        compare = None
    elif compare not in COMPARE_KINDS:
        f.bad(
            "parameters.compare",
            f"unknown comparison {compare!r}; choose one of: {', '.join(COMPARE_KINDS)}, none",
        )
    segment = value.get("segment")
    if segment is not None:
        match = [s for s in SEGMENTS if str(segment).lower() == s.lower()]
        if not match:
            f.bad(
                "parameters.segment",
                f"unknown segment {segment!r}; choose one of: {', '.join(SEGMENTS)}",
            )
        segment = match[0] if match else None
    csm = value.get("csm")
    if csm is not None and not isinstance(csm, str):
        f.bad("parameters.csm", "give a csm_id as text (`ecc csms` lists them)")
        csm = None
    return Filters(
        preset=None if start or end else preset,
        start=start,
        end=end,
        compare=compare,
        segment=segment,
        csm=csm,
    )


def _subject(f: _File, value: Any) -> str:
    if value is None:
        return DEFAULT_SUBJECT
    if not isinstance(value, str) or not value.strip() or "\n" in value:
        f.bad("subject", "give one line of text")
        return DEFAULT_SUBJECT
    try:
        names = [n for _, n, _, _ in string.Formatter().parse(value) if n is not None]
    except ValueError as exc:
        f.bad("subject", f"{exc}; write a literal brace as {{{{ or }}}}")
        return DEFAULT_SUBJECT
    for n in names:
        if n not in SUBJECT_FIELDS:
            f.bad(
                "subject",
                f"unknown placeholder {{{n}}}; use any of "
                + ", ".join(f"{{{s}}}" for s in SUBJECT_FIELDS),
            )
    return value.strip()


def _parse(path: Path) -> Schedule | list[str]:
    f = _File(path)
    try:
        doc = yaml.load(path.read_text(), Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "YAML"
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        f.bad(
            where,
            f"not valid YAML ({reason}); check the indentation, and quote values "
            "that start with * or contain ': ' (such as the cron expression)",
        )
        return f.problems
    except (OSError, UnicodeDecodeError) as exc:
        f.bad("file", f"cannot be read ({exc})")
        return f.problems
    if not isinstance(doc, dict):
        f.bad("file", "give a mapping of fields (cron:, notebooks:, recipients:, ...)")
        return f.problems
    f.unknown("", [k for k in doc if k not in FIELDS], FIELDS)

    name = doc.get("name", path.stem)
    if not isinstance(name, str) or not _NAME.match(name):
        f.bad("name", "use letters, digits, '-', '_' or '.' (at most 64), e.g. weekly-leadership")
        name = path.stem
    elif name.startswith(SUBSCRIPTION_PREFIX):
        f.bad(
            "name", f"names starting {SUBSCRIPTION_PREFIX!r} are the subscriptions'; choose another"
        )
    description = doc.get("description") or ""
    if not isinstance(description, str):
        f.bad("description", "give one line of text")
        description = ""
    tz = doc.get("timezone", "UTC")
    tz_ok = False
    try:
        ZoneInfo(str(tz))
        tz_ok = isinstance(tz, str)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    if not tz_ok:
        f.bad(
            "timezone",
            f"unknown time zone {tz!r}; give an IANA name such as UTC, "
            "Europe/London or America/New_York",
        )
    cron = doc.get("cron")
    if not isinstance(cron, str) or not cron.strip():
        f.bad("cron", f"missing; {CRON_HELP}")
        cron = ""
    elif tz_ok:
        try:
            cron_trigger(cron, str(tz))
        except ValueError as exc:
            f.bad("cron", f"{cron!r} is not a valid cron expression ({exc}); {CRON_HELP}")
    if "notebooks" not in doc:
        f.bad("notebooks", "missing; give board_pack, a dashboard, or a list of dashboards")
    notebooks = _notebooks(f, doc.get("notebooks")) if "notebooks" in doc else ()
    params = _parameters(f, doc.get("parameters"))
    today = _today(f, doc.get("parameters"))
    formats = _strings(f, "formats", doc.get("formats", ["pdf"])) or []
    for fmt in formats:
        if fmt not in FORMATS:
            f.bad("formats", f"unknown format {fmt!r}; choose from: {', '.join(FORMATS)}")
    recipients = _strings(f, "recipients", doc.get("recipients")) if "recipients" in doc else []
    if "recipients" not in doc:
        f.bad("recipients", "missing; give the email addresses to send the report to")
    for r in recipients or []:
        if not _EMAIL.match(r):
            f.bad("recipients", f"{r!r} is not an email address (name@example.com)")
    subject = _subject(f, doc.get("subject"))
    enabled = doc.get("enabled", True)
    if not isinstance(enabled, bool):
        f.bad("enabled", "give true or false")
    if f.problems:
        return f.problems
    return Schedule(
        name=name,
        path=path,
        cron=" ".join(str(cron).split()),
        timezone=str(tz),
        notebooks=notebooks,
        params=params,
        formats=tuple(dict.fromkeys(formats)),
        recipients=tuple(recipients or ()),
        today=today,
        subject=subject,
        description=description.strip(),
        enabled=bool(enabled),
    )


def load_schedules(folder: Path) -> list[Schedule]:
    """Every ``*.yaml`` / ``*.yml`` schedule in ``folder``, validated (all or nothing)."""
    if not folder.is_dir():
        raise ConfigError(
            f"no schedules folder {folder}: create it with one .yaml file per schedule "
            "(see schedules/ in the repository) or point --schedules at it"
        )
    files = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    problems: list[str] = []
    found: dict[str, Schedule] = {}
    for path in files:
        parsed = _parse(path)
        if isinstance(parsed, list):
            problems += parsed
        elif parsed.name in found:
            problems.append(
                f"{path}: name: {parsed.name!r} is also the name of {found[parsed.name].path}; "
                "give each schedule its own name"
            )
        else:
            found[parsed.name] = parsed
    if problems:
        raise ScheduleConfigError(problems)
    return list(found.values())


def find_schedule(schedules: list[Schedule], name: str, folder: Path) -> Schedule:
    for s in schedules:
        if s.name == name:
            return s
    known = ", ".join(s.name for s in schedules) or "none"
    raise ConfigError(f"no schedule named {name!r} in {folder}; the schedules are: {known}")
