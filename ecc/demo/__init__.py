"""A deterministic synthetic customer-success portfolio, written as DATA.md CSV files.

``generate(directory, customers=2000, seed=7, today=None)`` writes the ten source
tables of DATA.md; ``build_demo(engine, ...)`` generates them into a temporary folder
and loads them through :func:`ecc.load.load_directory`, the same path as ``ecc load``.
The same ``(customers, seed, today)`` always gives byte-identical files.

The model (a mid-size B2B SaaS company, about 3.5 years of history ending ``today``;
every number below is a constant of this package):

- Segments: 10% Enterprise, 30% Mid-market, 60% SMB customers. One active CSM per
  50 customers (at least 3, at least one per segment), 30% / 40% / 30% of them
  covering Enterprise / Mid-market / SMB, plus CSMs who left (one under 1,000
  customers, two from 1,000): ``active`` false, no current account, activities and
  save plays from before the day they left.
- Signups from 1,278 days before ``today`` up to a few days before it, growing over
  time (density 1 + 1.5 x over the history); the last few signups (at least two)
  fall in the last 12 days, so some customers are not scored yet.
- ARR at signup (``new``) is log-normal: Enterprise median $55K (a handful end
  above $250K after expansions), Mid-market $30K, SMB $5.5K; whole dollars.
- Annual contracts: a renewal is due on each anniversary of the signup (or of the
  reactivation; Feb 29 falls on Feb 28). Within a contract year: Poisson mid-term
  expansions (upsell, cross_sell, upgrade) and rare mid-term contractions. At the
  due date the customer churns with probability
  base(segment) x exp((70 - the year's health level) / 12), else renews flat, down
  (a ``contraction``) or up (an ``expansion``, mostly ``upgrade``), dated on the due
  date. A churn is a ``churn`` event on the due date that brings ARR to exactly 0;
  12% of churned customers come back 60-420 days later with a ``reactivation``.
  At the default size the trailing-twelve-month GRR is about 0.91 and NRR about
  1.07-1.16 in each of the last three years (Enterprise about 0.95 / 1.16, SMB
  about 0.79-0.84 / 0.87-0.94); other seeds stay within GRR 0.89-0.94, NRR 1.05-1.16.
- A renewal closes up to 45 days before or 60 days after its due date (churners
  mostly give notice 1-60 days ahead). One that closes after ``today`` is open at
  ``today`` (late when its due date has passed). The ledger holds only what is
  effective by ``today``: a renewal decided early and due after ``today`` has its
  outcome but no ledger event yet, and the customer has no later renewal.
- Every renewal stage in the current quarter: when no renewal due this quarter is
  renewed (or churned) by ``today``, the most likely one is decided today; when
  fewer than two are open, the latest ones renewed on a recent due date are kept
  open (late) instead; when the open ones all have the same forecast status, the
  lowest-scored is at_risk and the highest-scored on_track. From about 40 customers
  up every stage is present whatever ``today`` is.
- Health: one integer score a week (each customer on its own weekday), from two
  weeks after signup (one week after a reactivation) until the churn or ``today``: a
  mean-reverting random walk (pull 0.3, noise sd 3.5 a week) towards a per-customer
  baseline (sd 15 around 78 / 74 / 70 by segment) moved by a per-contract-year
  level, lower while onboarding, with temporary dips, and falling by 18-32 points
  over the 3-6 months before a churn (80% of churners; the rest churn unexpectedly)
  and by 6-14 points before a contraction, so health predicts churn.
- Renewal forecast_status is at_risk with a probability that grows as the latest
  score falls (0.06 from 70, 0.22, 0.55, 0.85 under 40; at least 0.5 for churned
  ones). Save plays open when a score falls under 40 (or under 50 with a renewal due
  within 90 days), owned by the CSM of that day; saved when the score is back to 60
  or the renewal is renewed, lost at a churned renewal or the churn, else active.
- Every expansion event has a won opportunity of its type and amount closing on
  its date; lost opportunities (win rate about 50%) and open ones (85% expected to
  close within the next 90 days) come on top, stages spread.
- Activities per customer-month by segment, scaled by the owner's activity level
  (0.6-1.5), weekdays only, plus internal tasks without a customer; 60% of emails
  answer a customer (response_hours log-normal, median 3.5 h times the CSM's speed
  0.5-2, clipped to 0.5-72 h, one decimal); 10% of older tasks and half of the last
  two weeks' are not completed. Support tickets with priorities, UTC timestamps and
  response / resolution times by priority; what has not happened by the end of
  ``today`` is empty (open tickets), and 1.5% are never resolved.
- Owners are chosen after the simulation: active customers greedily (largest ARR
  first) so that each CSM's book is near weight x the segment's unit book in both
  accounts and ARR, churned ones at random by weight; every CSM of a segment has the
  unit book as targets. The weights make a few CSMs over capacity (one in SMB and
  one in Mid-market above 1.2 when the segment has two CSMs or more) and some under
  0.8.
- Targets: quarterly rows for the portfolio (segment empty) and each segment, from
  the first quarter that starts with ARR through the end of ``today``'s year: grr
  and nrr as quarterly rates, renewal_rate, expansion_win_rate, and expansion_arr =
  a share of the segment's ARR at the quarter start (the portfolio row is the sum).

The package, one concern a module: :mod:`~ecc.demo.params` (the model's numbers),
:mod:`~ecc.demo.names` (people, companies, industries, regions),
:mod:`~ecc.demo.portfolio` (the records the simulation fills in),
:mod:`~ecc.demo.dates` and :mod:`~ecc.demo.draws` (day and random helpers),
:mod:`~ecc.demo.population` (the CSMs and customers), :mod:`~ecc.demo.simulate` (a
customer's ARR ledger and renewals), :mod:`~ecc.demo.stages` (every renewal stage
this quarter), :mod:`~ecc.demo.owners` (owners and capacity),
:mod:`~ecc.demo.health` (weekly scores), :mod:`~ecc.demo.csv_out` (the files'
columns and writers), :mod:`~ecc.demo.rows` (each customer's rows),
:mod:`~ecc.demo.targets` (the quarterly targets) and :mod:`~ecc.demo.build` (the two
entry points, using all of the above).
"""

from .build import build_demo, generate

__all__ = ["build_demo", "generate"]
