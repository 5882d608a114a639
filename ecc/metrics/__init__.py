"""The metric families of METRICS.md and :func:`compute_all`, which assembles them.

One definition serves every surface: the dashboards, reports, exports, alerts and
``ecc metrics --format json`` all call these functions.
"""

from __future__ import annotations

from .context import Context
from .scope import Scope

__all__ = ["AREAS", "Context", "Scope", "compute_all", "compute_areas"]

from .compute import AREAS, compute_all, compute_areas
