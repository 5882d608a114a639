"""Scheduled reports (FR-8): ``schedules/*.yaml`` run by ``ecc scheduler``.

- :mod:`.config`: the schedule files, validated strictly (file, field, fix).
- :mod:`.records`: the run records (``report_runs``).
- :mod:`.alert_times`: when alert mail goes out (the digests, immediate mail).
- :mod:`.runner`: one run: the report made, recorded, and mailed through the outbox.
- :mod:`.service`: APScheduler with a persistent job store in the database, one
  scheduler per database, jobs synced from the files; ``--list`` and ``--run-now``.
"""
