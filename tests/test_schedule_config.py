"""Schedule files (schedules/*.yaml): the shipped examples are valid, cron days count as in
crontab, and every mistake is named with its file, its field and the fix."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ecc.reports.params import BOARD_PACK
from ecc.schedule.config import ScheduleConfigError, cron_trigger, load_schedules
from ecc.schedule.runner import reference_day
from ecc.schedule.service import last_fire_time

ROOT = Path(__file__).resolve().parents[1]
GOOD = """\
cron: "0 7 * * 1"
notebooks: [risk, portfolio]
recipients: [vp@example.com]
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def problems(folder: Path) -> list[str]:
    with pytest.raises(ScheduleConfigError) as info:
        load_schedules(folder)
    return info.value.problems


def test_the_shipped_weekly_and_monthly_schedules_are_valid() -> None:
    found = {s.name: s for s in load_schedules(ROOT / "schedules")}
    weekly, monthly = found["weekly-leadership"], found["monthly-board-pack"]
    assert weekly.notebooks == BOARD_PACK and weekly.formats == ("pdf",)
    assert weekly.params.preset == "this_quarter" and weekly.today == "data"
    assert monthly.params.preset == "last_month" and monthly.params.compare == "yoy"
    assert monthly.today == "run_date"  # on the 1st: the month that just ended
    assert monthly.formats == ("pdf", "xlsx")
    after = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
    monday = weekly.trigger().get_next_fire_time(None, after)
    assert f"{monday:%Y-%m-%d %H:%M %A %Z}" == "2026-11-30 07:00 Monday GMT"
    first = monthly.trigger().get_next_fire_time(None, after)
    assert f"{first:%Y-%m-%d %H:%M}" == "2026-12-01 06:00"


@pytest.mark.parametrize(
    ("weekday", "expected"),
    [
        ("1", "Monday"),
        ("0", "Sunday"),
        ("7", "Sunday"),
        ("mon", "Monday"),
        ("6", "Saturday"),
        ("1-5", "Monday"),
    ],
)
def test_cron_weekdays_count_as_in_crontab(weekday: str, expected: str) -> None:
    # APScheduler 3 counts 0 as Monday; a crontab line means 1 = Monday, 0 and 7 = Sunday
    trigger = cron_trigger(f"0 7 * * {weekday}", "UTC")
    saturday = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    fire = trigger.get_next_fire_time(None, saturday)
    if weekday == "6":
        assert f"{fire:%A %Y-%m-%d}" == "Saturday 2026-12-05"
    else:
        assert f"{fire:%A}" == expected


def test_a_weekday_range_keeps_its_days() -> None:
    trigger = cron_trigger("30 6 * * 1-5", "UTC")
    t = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # Friday after 06:30
    days = []
    for _ in range(5):
        t = trigger.get_next_fire_time(None, t)
        days.append(f"{t:%a}")
        t = t.replace(minute=31)
    assert days == ["Mon", "Tue", "Wed", "Thu", "Fri"]


def test_the_due_time_of_a_run_is_the_latest_cron_time_not_after_now() -> None:
    trigger = cron_trigger("0 7 * * 1", "Europe/London")
    wednesday = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert f"{last_fire_time(trigger, wednesday):%Y-%m-%d %H:%M}" == "2026-11-23 07:00"
    monthly = cron_trigger("0 6 1 * *", "UTC")
    assert f"{last_fire_time(monthly, wednesday):%Y-%m-%d}" == "2026-11-01"


def test_presets_count_from_the_day_the_schedule_fires_in_its_time_zone(tmp_path: Path) -> None:
    la = "timezone: America/Los_Angeles\nparameters: {today: run_date}\n"
    write(tmp_path, "la.yaml", GOOD + la)
    write(tmp_path, "data.yaml", GOOD + "parameters: {preset: ytd}\n")  # the default
    write(tmp_path, "fixed.yaml", GOOD + "parameters: {preset: ytd, today: 2026-06-30}\n")
    found = {s.name: s for s in load_schedules(tmp_path)}
    due = datetime(2026, 12, 1, 6, 0)  # UTC: still November 30 in Los Angeles
    assert reference_day(found["la"], due) == "2026-11-30"
    assert reference_day(found["data"], due) is None  # the latest date with data
    assert reference_day(found["fixed"], due) == "2026-06-30"


def test_defaults_and_names(tmp_path: Path) -> None:
    write(tmp_path, "risk-weekly.yaml", GOOD)
    (s,) = load_schedules(tmp_path)
    assert s.name == "risk-weekly" and s.timezone == "UTC"
    assert s.notebooks == ("portfolio", "risk")  # pack order
    assert s.formats == ("pdf",) and s.subject == "{title}: {period}"
    assert s.params.preset == "this_quarter" and s.params.compare == "previous"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            GOOD.replace("[risk, portfolio]", "[risk, nosuch]"),
            "notebooks: unknown dashboard 'nosuch'; choose from: portfolio, retention",
        ),
        (
            GOOD.replace("[risk, portfolio]", "account"),
            "notebooks: unknown dashboard 'account' is a drill-down page, not a report;",
        ),
        (
            GOOD.replace('"0 7 * * 1"', '"61 7 * * 1"'),
            "cron: '61 7 * * 1' is not a valid cron expression",
        ),
        (
            GOOD.replace('"0 7 * * 1"', '"0 7 * *"'),
            "cron: '0 7 * *' is not a valid cron expression (it has 4 field(s), not 5); give "
            "five fields, minute hour day-of-month month day-of-week",
        ),
        (GOOD.replace('"0 7 * * 1"', '"0 7 * * 9"'), "day-of-week '9' is out of range"),
        (GOOD + "timezone: Mars/Olympus\n", "timezone: unknown time zone 'Mars/Olympus'"),
        (GOOD + "recipient: [a@example.com]\n", "recipient: unknown field; did you mean "),
        (GOOD.replace("vp@example.com", "vp-at-example"), "recipients: 'vp-at-example' is not"),
        (GOOD + "formats: [pdf, docx]\n", "formats: unknown format 'docx'; choose from: html"),
        (GOOD + "parameters: {preset: last_week}\n", "parameters.preset: unknown preset"),
        (GOOD + "parameters: {compare: mom}\n", "parameters.compare: unknown comparison 'mom'"),
        (GOOD + "parameters: {segment: Galactic}\n", "parameters.segment: unknown segment"),
        (GOOD + "parameters: {start: 2026-01-01}\n", "a fixed range needs both start and end"),
        (GOOD + "parameters: {start: 2026-13-01, end: 2026-12-31}\n", "is not a date"),
        (GOOD + "parameters: {today: tomorrow}\n", "parameters.today: 'tomorrow' is neither data"),
        (GOOD + "subject: 'Pack {when}'\n", "subject: unknown placeholder {when}; use any of"),
        (GOOD.replace("recipients: [vp@example.com]\n", ""), "recipients: missing;"),
        (GOOD + "enabled: maybe\n", "enabled: give true or false"),
        ("- just\n- a list\n", "file: give a mapping of fields"),
    ],
)
def test_a_mistake_names_the_file_the_field_and_the_fix(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "board.yaml", text)
    found = problems(tmp_path)
    assert len(found) == 1, found
    assert found[0].startswith(f"{path}: ")
    assert expected in found[0]


def test_bad_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "cron: * * * * *\nnotebooks: risk\n")
    (found,) = problems(tmp_path)
    assert found.startswith(f"{path}: line 1, column 8: not valid YAML")
    assert "quote values that start with *" in found


def test_every_problem_of_every_file_is_listed_at_once(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD.replace('"0 7 * * 1"', '"bad"') + "formats: [doc]\n")
    write(tmp_path, "b.yaml", GOOD.replace("[risk, portfolio]", "nosuch"))
    write(tmp_path, "c.yaml", GOOD + "name: a\n")
    write(tmp_path, "d.yaml", GOOD + "name: a\n")
    found = problems(tmp_path)
    assert [p.split(": ")[1] for p in found] == ["cron", "formats", "notebooks", "name"]
    assert "'a' is also the name of" in found[-1]


def test_the_command_line_prints_one_clear_error_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "board.yaml", GOOD.replace("[risk, portfolio]", "nosuch"))
    run = subprocess.run(
        [sys.executable, "-m", "ecc.cli", "scheduler", "--check", "--schedules", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert run.stderr.startswith(f"ecc: error: {path}: notebooks: unknown dashboard 'nosuch'")
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "ecc.cli", "scheduler", "--check", "--schedules", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2 and "no schedules folder nope" in missing.stderr
