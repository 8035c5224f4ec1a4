"""A report as an email (SPEC S12): HTML with inline charts, the CSV attached.

The charts are matplotlib PNGs drawn with the Agg backend through the object API (no
pyplot state: safe in a worker thread): service level per interval, calls and abandons per
interval, agent occupancy. The HTML refers to them by Content-ID (``cid:``), so mail
clients show them without fetching anything. Building is pure (no I/O); ``vaxel.mail.send``
sends.
"""

from __future__ import annotations

import html
import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from reports import AgentFigures, FigureSource, QueueFigures

from .reports import ReportRun

CHART_NAMES = ("service_level", "calls", "occupancy")


def _per_interval(
    queues: list[QueueFigures], slots: Sequence[tuple[datetime, datetime]] = ()
) -> list[QueueFigures]:
    """The queues' figures summed per interval, in time order; every slot of the period
    has a row (an hour without calls shows as such, not as a gap in the axis)."""
    out: dict[datetime, QueueFigures] = {}
    sl, sa = (queues[0].service_level_seconds, queues[0].short_abandon_seconds) if queues else (
        20.0, 5.0)  # fmt: skip
    for start, end in slots:
        out[start] = QueueFigures("all", start, end, sl, sa)
    for f in queues:
        have = out.get(f.start)
        if have is None:
            total = QueueFigures("all", f.start, f.end, f.service_level_seconds,
                                 f.short_abandon_seconds)  # fmt: skip
            total.add(f)
            out[f.start] = total
        else:
            have.add(f)
    return [out[k] for k in sorted(out)]


def _figure(width: float = 7.5, height: float = 3.0) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    fig.set_layout_engine("tight")
    return fig


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _label(start: datetime, span_seconds: float) -> str:
    return start.strftime("%H:%M" if span_seconds <= 3600 else "%d %b")


def charts(
    queues: list[QueueFigures],
    agents: list[AgentFigures],
    slots: list[tuple[datetime, datetime]] | None = None,
) -> dict[str, bytes]:
    """The three charts as PNG bytes, by name (``CHART_NAMES``); ``slots``: every interval
    of the period (start, end)."""
    rows = _per_interval(queues, slots or [])
    span = (rows[0].end - rows[0].start).total_seconds() if rows else 3600
    labels = [_label(r.start, span) for r in rows]
    x = list(range(len(rows)))
    out: dict[str, bytes] = {}

    fig = _figure()
    ax = fig.add_subplot()
    levels = [100 * r.service_level if r.service_level is not None else float("nan") for r in rows]
    ax.plot(x, levels, marker="o", color="#1f77b4", label="service level")
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    threshold = rows[0].service_level_seconds if rows else 20
    ax.set_title(f"Service level per interval (answered within {threshold:g} s)")
    _ticks(ax, x, labels)
    ax.grid(axis="y", alpha=0.3)
    out["service_level"] = _png(fig)

    fig = _figure()
    ax = fig.add_subplot()
    w = 0.4
    ax.bar([i - w / 2 for i in x], [r.answered for r in rows], w, label="answered",
           color="#2ca02c")  # fmt: skip
    ax.bar([i + w / 2 for i in x], [r.abandoned for r in rows], w, label="abandoned",
           color="#d62728")  # fmt: skip
    ax.plot(x, [r.offered for r in rows], "k.", label="offered")
    ax.set_title("Calls and abandons per interval")
    ax.legend(loc="upper left", fontsize="small")
    _ticks(ax, x, labels)
    ax.grid(axis="y", alpha=0.3)
    out["calls"] = _png(fig)

    per_agent: dict[str, AgentFigures] = {}
    for a in agents:
        have = per_agent.get(a.agent)
        if have is None:
            per_agent[a.agent] = have = AgentFigures(a.agent, a.start, a.end)
        have.add(a)
    names = sorted(per_agent)
    fig = _figure(height=max(2.0, 0.4 * len(names) + 1.2))
    ax = fig.add_subplot()
    occ = [100 * (per_agent[n].occupancy or 0.0) for n in names]
    bars = ax.barh(range(len(names)), occ, color="#9467bd")
    ax.bar_label(bars, labels=[f"{v:.1f} %" for v in occ], padding=3, fontsize="small")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of available time on calls (ringing, talking, wrap-up)")
    ax.set_title("Agent occupancy")
    if not names:
        ax.text(50, 0, "no agent was logged in", ha="center")
    out["occupancy"] = _png(fig)
    return out


def _ticks(ax: Any, x: list[int], labels: list[str]) -> None:
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], labels[::step], rotation=0, fontsize="small")
    if not x:
        ax.text(0.5, 0.5, "no calls in this period", ha="center", transform=ax.transAxes)


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.1f} %" if pct else f"{value:.0f} s"


def _summary_rows(rollup: FigureSource | None, run: ReportRun) -> list[QueueFigures]:
    if rollup is None:
        return []
    totals: dict[str, QueueFigures] = defaultdict(lambda: QueueFigures("", run.params.start,
                                                                       run.params.end))  # fmt: skip
    for f in rollup.queue_figures(run.params.queues):
        if run.params.start <= f.start < run.params.end:
            t = totals[f.queue]
            t.queue, t.service_level_seconds = f.queue, f.service_level_seconds
            t.short_abandon_seconds = f.short_abandon_seconds
            t.add(f)
    return [totals[q] for q in sorted(totals)]


def report_html(run: ReportRun, title: str, api_query: str, cids: dict[str, str]) -> str:
    p = run.params
    rows = _summary_rows(run.rollup, run)
    trs = (
        "\n".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    f.queue,
                    f.offered,
                    f.answered,
                    f.abandoned,
                    f.abandoned_short,
                    _fmt(f.service_level, True),
                    _fmt(f.asa),
                    _fmt(f.longest_wait),
                )  # fmt: skip
            )
            + "</tr>"
            for f in rows
        )
        or '<tr><td colspan="8">no calls in this period</td></tr>'
    )
    imgs = "\n".join(
        f'<p><img src="cid:{cids[name]}" alt="{html.escape(alt)}" style="max-width:100%"></p>'
        for name, alt in (
            ("service_level", "Service level per interval"),
            ("calls", "Calls and abandons per interval"),
            ("occupancy", "Agent occupancy"),
        )
    )
    scope = ", ".join(p.queues) if p.queues else "all queues"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; color: #222; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(p.start.isoformat())} – {html.escape(p.end.isoformat())}
({html.escape(p.zone)}), {html.escape(scope)}.</p>
<table>
<tr><th>queue</th><th>offered</th><th>answered</th><th>abandoned</th><th>short abandons</th>
<th>service level</th><th>ASA</th><th>longest wait</th></tr>
{trs}
</table>
{imgs}
<p>The attached CSV is the {html.escape(p.report.value)} report; the API gives the same with
<code>{html.escape(api_query)}</code>. Service level = answered within the queue's threshold /
(offered − short abandons); see docs/statistics.md.</p>
</body></html>
"""


def report_message(
    *,
    sender: str,
    recipient: str,
    title: str,
    run: ReportRun,
    csv_name: str,
    csv_body: bytes,
    api_query: str,
    message_id: str,
    date: datetime,
    chart_pngs: dict[str, bytes],
) -> EmailMessage:
    """multipart/mixed: (multipart/alternative: text, multipart/related: HTML + PNGs), CSV."""
    domain = message_id.rpartition("@")[2].rstrip(">") or "vaxel.local"
    cids = {name: f"{name}.{message_id.strip('<>').partition('@')[0]}@{domain}"
            for name in chart_pngs}  # fmt: skip
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = title
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    p = run.params
    msg.set_content(
        f"{title}\n\n{p.start.isoformat()} - {p.end.isoformat()} ({p.zone}).\n"
        f"The report is attached as CSV ({csv_name}); the HTML part has the charts.\n"
    )
    msg.add_alternative(report_html(run, title, api_query, cids), subtype="html")
    payload = msg.get_payload()
    assert isinstance(payload, list)
    html_part = payload[1]
    assert isinstance(html_part, EmailMessage)
    for name, png in chart_pngs.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cids[name]}>",
                              filename=f"{name}.png")  # fmt: skip
    msg.add_attachment(csv_body, maintype="text", subtype="csv", filename=csv_name)
    return msg
