"""English pages write dates as ISO 8601 (``2026-12-01 14:20``), like the Swedish ones.

Django's English formats (``Dec. 1, 2026``, ``12/01/2026 2:20 p.m.``) are American; the
foundation's staff read both languages side by side, and the ledger and files use ISO.
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
