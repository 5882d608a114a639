"""Validation of the DATA.md source CSVs: every rule, one row at a time, in one pass.

:mod:`ecc.load` streams the files and feeds each row to a :class:`TableValidator`;
this package knows what a valid row is and says, for every problem, what is wrong and
how to fix it. Nothing here touches the database.

What is checked
    * types: dates ``YYYY-MM-DD``; timestamps ISO 8601 (``2026-03-01T14:05:00``,
      ``T`` or a space between date and time, optional seconds and fraction, optional
      ``Z`` or ``+hh:mm`` offset; an offset is converted to UTC, no offset means UTC;
      stored as naive UTC); money: a decimal with at most 2 places, below 10^12;
      ints; numbers (``2.5``, ``1e3``; not NaN or infinity); booleans exactly
      ``true`` / ``false``; ids at most 64 characters; enumerations spelled exactly.
    * NULLs: an empty cell is NULL; a column that is not NULL in DATA.md must be filled.
    * ranges: ``target_accounts`` > 0, ``target_arr`` > 0, ``score`` in 0..100 with at
      most 2 places (the database stores 2), ``renewals.arr`` > 0, ``amount`` > 0,
      ``response_hours`` >= 0, ``targets.value`` at most 6 places (the database stores 6).
    * keys: primary keys unique; ``(customer_id, scored_on)`` for health scores and
      ``(metric, period_start, period_end, segment)`` for targets.
    * foreign keys: must name a row of the parent file (parents load first).
    * row rules of DATA.md: the sign of ``arr_delta`` matches ``kind``;
      ``expansion_type`` is set exactly when ``kind = expansion``; ``closed_on`` is set
      exactly when ``outcome`` is; ``renewed_arr`` is set when ``outcome = renewed``;
      ``period_end >= period_start``; a target's ``segment`` is a segment or empty;
      ``completed`` is ``true`` for every activity that is not a task.
    * row rules implied by DATA.md's meanings (reported like the others):
      ``closed_on`` not before ``created_on`` (opportunities) / ``opened_on`` (save
      plays); ``first_response_at`` and ``resolved_at`` not before ``opened_at``;
      ``onboarded_on`` not before ``signup_date``; ``response_hours`` only on emails;
      ``renewed_arr`` > 0; a CSM's ``email`` looks like ``name@host``.
    * the ARR ledger (:class:`Ledger`): ARR_c = running sum of ``arr_delta`` never
      goes below 0; ``churn`` brings it to exactly 0; ``new`` only when ARR is 0 and
      the customer never had ARR; ``reactivation`` only when ARR is 0 after an earlier
      churn; ``expansion`` and ``contraction`` only while ARR > 0, and a contraction
      leaves ARR > 0 (a drop to 0 is a churn; without this, "new" and "reactivation"
      could be bypassed and churned ARR would hide among contractions).

Ledger order and memory
    A customer's events are checked in ``(event_date, line in the file)`` order: the
    file need not be sorted, and events on the same date apply in file order. While
    the file streams, each event is kept as two 64-bit integers in a per-customer
    ``array('q')`` (date, line and kind packed in one, the delta in cents in the
    other): 16 bytes an event, so a million events cost about 16 MB. At the end of the
    file each customer's events are sorted and replayed. Only the first ledger problem
    of a customer is reported (later events would be judged against a balance that
    is already wrong), and a customer with a problem in the ledger columns of one of
    its own rows (date, kind, delta or its sign) is not replayed at all.

Keys and memory
    Primary keys of text ids are kept in a ``set`` of the id strings (parent id sets
    double as the foreign-key lookups). Health-score keys keep, per customer, a bitmap
    of the days seen (about 46 bytes per customer-year instead of ~80 bytes per row).
    A duplicate reports the line of the first occurrence, found by re-reading the
    file's key columns only when duplicates exist.

Problems are located as ``file:line:column``; line numbers are physical lines of the
file (the header is line 1; a quoted value spanning lines counts them all). A problem
about a whole row uses the column ``-``.

The package, one concern a module (each imports only the ones listed before it):
:mod:`~ecc.validate.cells` (the cell parsers), :mod:`~ecc.validate.rules` (the row
rules), :mod:`~ecc.validate.tables` (the table specs), :mod:`~ecc.validate.problems`
(the problems of one file), :mod:`~ecc.validate.header` (the header line),
:mod:`~ecc.validate.keys` (duplicate keys), :mod:`~ecc.validate.ledger` (the ARR
ledger) and :mod:`~ecc.validate.rows` (a file's rows, using all of the above).
"""

from .cells import BAD, Invalid
from .header import read_header
from .keys import DayKeys
from .ledger import Ledger
from .problems import ProblemSink
from .rows import TableValidator
from .tables import SPECS, Field, TableSpec

__all__ = [
    "BAD",
    "SPECS",
    "DayKeys",
    "Field",
    "Invalid",
    "Ledger",
    "ProblemSink",
    "TableSpec",
    "TableValidator",
    "read_header",
]
