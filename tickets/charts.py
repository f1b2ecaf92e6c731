"""The SLA report's charts, drawn on the server by matplotlib as SVG: the share answered within target per
period and severity, and the tickets opened per period by severity.

matplotlib's object API (`Figure`, no pyplot): no global state, so web processes may draw at once.
Text stays text in the SVG (svg.fonttype none): it scales with the image on a phone and can be read
by a screen reader; the page has the same figures as a table beside it.
"""

from __future__ import annotations

import io
import math

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from tickets.report import SlaReport
from tickets.sla import Severity

# Colours a red-green colour-blind reader can tell apart (Okabe and Ito), and a marker each besides.
STYLE = {
    Severity.CRITICAL.value: ("#D55E00", "o"),
    Severity.HIGH.value: ("#E69F00", "s"),
    Severity.NORMAL.value: ("#0072B2", "^"),
    Severity.LOW.value: ("#009E73", "D"),
}
# A phone's width (about 5 inches of points at 72 per inch) with text at 12 points: readable there
# without zooming; the page caps the width on a desk.
FONT_SIZE = 12
SIZE_INCHES = (5.2, 3.4)


def _labels(report: SlaReport) -> list[str]:
    if report.query.period == "week":
        return [p.start.strftime("%d %b").lstrip("0") for p in report.periods]
    return [p.start.strftime("%b %y") for p in report.periods]


def _svg(figure: Figure) -> bytes:
    out = io.BytesIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "sla-report"}):
        figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=SIZE_INCHES, layout="constrained")
    axes = figure.subplots()
    axes.tick_params(labelsize=FONT_SIZE - 1)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def _period_axis(axes: Axes, report: SlaReport) -> None:
    labels = _labels(report)
    step = max(1, math.ceil(len(labels) / 6))  # at most six labels, readable on a phone
    axes.set_xticks(range(0, len(labels), step), labels[::step])


def within_target_chart(report: SlaReport) -> bytes:
    """Per period, the share of each severity's decided tickets answered within target, as SVG."""
    figure, axes = _figure()
    x = range(len(report.periods))
    for severity, (colour, marker) in STYLE.items():
        shares = [math.nan if (s := p.by_severity[severity].within_share) is None else 100 * s
                  for p in report.periods]
        axes.plot(x, shares, color=colour, marker=marker, linewidth=2, label=severity)
    axes.set_ylim(0, 105)
    axes.set_ylabel("% within target", fontsize=FONT_SIZE)
    axes.grid(axis="y", alpha=0.3)
    _period_axis(axes, report)
    axes.legend(fontsize=FONT_SIZE - 1, ncols=4, loc="lower center", handlelength=1.2, columnspacing=1.0, bbox_to_anchor=(0.5, 1.0),
                frameon=False)
    return _svg(figure)


def opened_chart(report: SlaReport) -> bytes:
    """Per period, the tickets opened, stacked by severity, as SVG."""
    figure, axes = _figure()
    x = list(range(len(report.periods)))
    bottom = [0] * len(x)
    for severity, (colour, _marker) in STYLE.items():
        counts = [p.by_severity[severity].opened for p in report.periods]
        axes.bar(x, counts, bottom=bottom, color=colour, label=severity)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    axes.set_ylabel("tickets opened", fontsize=FONT_SIZE)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.grid(axis="y", alpha=0.3)
    _period_axis(axes, report)
    axes.legend(fontsize=FONT_SIZE - 1, ncols=4, loc="lower center", handlelength=1.2, columnspacing=1.0, bbox_to_anchor=(0.5, 1.0),
                frameon=False)
    return _svg(figure)


DRAWN = {"within-target": within_target_chart, "opened": opened_chart}
