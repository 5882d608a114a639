"""Scheduled reports (FR-8): ``schedules/*.yaml`` run by ``ecc scheduler``.

- :mod:`.config`: the schedule files, validated strictly (file, field, fix).
- :mod:`.runs`: the run records (``report_runs``).
- :mod:`.runner`: one run: the report made, recorded, and mailed through the outbox.
- :mod:`.service`: APScheduler with a persistent job store in the database, one
  scheduler per database, jobs synced from the files; ``--list`` and ``--run-now``.
"""
