"""When the scheduler mails alerts: the digest times, from settings.

- ``ECC_ALERT_DAILY_CRON`` and ``ECC_ALERT_WEEKLY_CRON`` (mornings; Mondays), five-field
  crontab expressions, in ``ECC_ALERT_TIMEZONE`` (defaults: :mod:`ecc.variables`);
- immediate mail (critical alerts) is looked for every :data:`IMMEDIATE_EVERY`.

The digest jobs live in the scheduler's persistent job store, so a digest that came due
while no scheduler ran is sent once at the next start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .. import variables
from ..errors import ConfigError

IMMEDIATE_EVERY = timedelta(minutes=1)


def digest_triggers(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """cadence (daily, weekly) -> its APScheduler CronTrigger."""
    from .config import cron_trigger

    env = os.environ if environ is None else environ
    timezone = variables.value("ECC_ALERT_TIMEZONE", env) or "UTC"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"ECC_ALERT_TIMEZONE={timezone!r} is not a time zone; write e.g. Europe/London"
        ) from None
    out: dict[str, Any] = {}
    for cadence, name in (("daily", "ECC_ALERT_DAILY_CRON"), ("weekly", "ECC_ALERT_WEEKLY_CRON")):
        expr, default = variables.value(name, env), variables.setting(name).default
        try:
            out[cadence] = cron_trigger(expr, timezone)
        except ValueError as exc:
            raise ConfigError(
                f"{name}={expr!r} is not a crontab expression: {exc}; write e.g. {default!r}"
            ) from None
    return out
