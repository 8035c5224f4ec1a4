"""Statistics from the call log (SPEC S12): figures per queue and agent and interval.

Pure: call-log events in (``calllog.CallEvent``, in the order they happened), figures
out. No SQL, no mail, no clock: the storage layer feeds the events, the report centre
formats the figures. The formulas are in ``docs/statistics.md``; the standard reports
(``centre``) and the subscription due times (``schedule``) in ``docs/reports.md``.
"""

from .assembled import Assembled, Piece, day_pieces, piece_interval
from .centre import (
    REPORT_END,
    FigureSource,
    NkiFigures,
    NkiRollup,
    ParamError,
    PeriodFeed,
    ReportKind,
    ReportParams,
    Table,
    build_table,
    parse_params,
    to_csv,
)
from .figures import MOS_LOW, AgentFigures, QueueFigures
from .periods import Interval, Periods
from .rollup import QueueRules, Rollup
from .schedule import DETAIL, SETTLE_SECONDS, Due, Periodicity, Schedule, periodicity_of

__all__ = [
    "DETAIL",
    "MOS_LOW",
    "REPORT_END",
    "SETTLE_SECONDS",
    "AgentFigures",
    "Assembled",
    "Due",
    "FigureSource",
    "Interval",
    "NkiFigures",
    "NkiRollup",
    "ParamError",
    "Piece",
    "PeriodFeed",
    "Periodicity",
    "Periods",
    "QueueFigures",
    "QueueRules",
    "ReportKind",
    "ReportParams",
    "Rollup",
    "Schedule",
    "Table",
    "build_table",
    "day_pieces",
    "parse_params",
    "periodicity_of",
    "piece_interval",
    "to_csv",
]
