"""Statistics from the call log (SPEC S12): figures per queue and agent and interval.

Pure: call-log events in (``calllog.CallEvent``, in the order they happened), figures
out. No SQL, no mail, no clock: the storage layer feeds the events, the report centre
formats the figures. The formulas are in ``docs/statistics.md``.
"""

from .figures import MOS_LOW, AgentFigures, QueueFigures
from .periods import Interval, Periods
from .rollup import QueueRules, Rollup

__all__ = [
    "MOS_LOW",
    "AgentFigures",
    "Interval",
    "Periods",
    "QueueFigures",
    "QueueRules",
    "Rollup",
]
