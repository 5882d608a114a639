"""The numbers of the demo portfolio's model: shares, rates, sizes and targets.

Every constant that shapes the synthetic portfolio lives here: how customers and
CSMs split over the segments, how long the history is, ARR at signup, health
baselines, churn and expansion rates, how many activities, tickets and
opportunities a customer has, how the CSMs' books are weighted and the quarterly
targets. Change a number here and the same seed gives a different portfolio.
"""

from __future__ import annotations

CUSTOMER_SHARE = {"Enterprise": 0.10, "Mid-market": 0.30, "SMB": 0.60}
CSM_SHARE = {"Enterprise": 0.30, "Mid-market": 0.40, "SMB": 0.30}
CUSTOMERS_PER_CSM = 50
HISTORY_DAYS = 1278  # about 3.5 years

# ARR at signup: (median, log sd, minimum, maximum, rounding unit)
INITIAL_ARR = {
    "Enterprise": (55_000.0, 0.55, 25_000, 400_000, 500),
    "Mid-market": (30_000.0, 0.35, 12_000, 90_000, 100),
    "SMB": (5_500.0, 0.45, 1_500, 18_000, 10),
}
HEALTH_BASELINE = {"Enterprise": 78.0, "Mid-market": 74.0, "SMB": 70.0}
CHURN_BASE = {"Enterprise": 0.025, "Mid-market": 0.045, "SMB": 0.085}
MIDTERM_EXPANSIONS = {"Enterprise": 0.8, "Mid-market": 0.65, "SMB": 0.3}  # per contract year
MIDTERM_CONTRACTION = 0.04  # probability per contract year
RENEWAL_CONTRACTION = {"Enterprise": 0.10, "Mid-market": 0.10, "SMB": 0.08}
RENEWAL_UPLIFT = 0.30
REACTIVATION = 0.12
LOST_OPPORTUNITIES = {"Enterprise": 1.6, "Mid-market": 1.0, "SMB": 0.45}  # per year
OPEN_OPPORTUNITIES = {"Enterprise": 0.25, "Mid-market": 0.12, "SMB": 0.05}  # per active customer
# activities per customer-month: meeting, email, call, task
ACTIVITY_RATES = {
    "Enterprise": (2.0, 5.0, 1.5, 2.0),
    "Mid-market": (0.8, 2.5, 0.7, 1.0),
    "SMB": (0.15, 0.8, 0.2, 0.3),
}
ACTIVITY_KINDS = ("meeting", "email", "call", "task")
INTERNAL_TASKS_PER_MONTH = 3.0
TICKETS_PER_MONTH = {"Enterprise": 1.6, "Mid-market": 0.8, "SMB": 0.3}
TICKET_PRIORITIES = (("low", 0.30), ("normal", 0.45), ("high", 0.18), ("urgent", 0.07))
# mean seconds to first response and from first response to resolution, by priority
TICKET_TIMES = {
    "low": (14_400.0, 259_200.0),
    "normal": (7_200.0, 129_600.0),
    "high": (2_700.0, 43_200.0),
    "urgent": (900.0, 14_400.0),
}
# the weights of the CSMs of a segment: (first, second, last); the others draw 0.82..1.0
CSM_WEIGHTS = {
    "Enterprise": (1.06, None, 0.74),
    "Mid-market": (1.26, 1.06, 0.72),
    "SMB": (1.36, 1.08, 0.68),
}
QUARTERLY_TARGETS = {
    # metric: (portfolio, Enterprise, Mid-market, SMB)
    "grr": (0.975, 0.985, 0.975, 0.955),
    "nrr": (1.02, 1.035, 1.02, 0.995),
    "renewal_rate": (0.90, 0.95, 0.90, 0.85),
    "expansion_win_rate": (0.45, 0.50, 0.45, 0.40),
}
EXPANSION_TARGET_SHARE = {"Enterprise": 0.05, "Mid-market": 0.035, "SMB": 0.02}
