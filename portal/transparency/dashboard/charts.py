"""The chart geometry, rendered as inline SVG by templates/dashboard/_charts.html.

Templates, not pygal: pygal writes its look into a ``<style>`` element and inline ``style``
attributes inside the SVG, which this site's Content-Security-Policy (``style-src 'self'``)
blocks, and it adds a script for its tooltips; our SVG takes its colours from main.css by
class, carries a title and a description, and each chart sits beside a table of the same
numbers. Geometry is plain arithmetic over a few dozen values (microseconds)."""

from __future__ import annotations

from collections.abc import Sequence

BAR = 28  # the height of one horizontal bar row, in SVG units
LABEL = 0  # bars start at x=0; labels sit above each bar
WIDTH = 300


def bar_chart(
    items: Sequence[tuple[str, int | None]], maximum: int | None = None, unit: str = ""
) -> dict:
    """Horizontal bars, one per (label, value); a None value draws no bar ("—")."""
    top = maximum or max([v for _l, v in items if v] or [1])
    bars = []
    for i, (label, value) in enumerate(items):
        width = 0 if not value else max(1, round(WIDTH * value / top))
        bars.append(
            {
                "label": label,
                "value": value,
                "text": "—" if value is None else f"{value}{unit}",
                "y": i * BAR * 2,
                "width": width,
            }
        )
    return {"bars": bars, "width": WIDTH + 60, "height": max(len(items), 1) * BAR * 2, "unit": unit}


def month_chart(rows: list[tuple[str, int, int]]) -> dict:
    """Pairs of vertical bars per month: cases opened and closed."""
    top = max([max(o, c) for _m, o, c in rows] or [1]) or 1
    height, slot = 120, 40
    months = []
    for i, (month, opened, closed) in enumerate(rows):
        h_open = round(height * opened / top)
        h_closed = round(height * closed / top)
        months.append(
            {
                "month": month,
                "label": month[5:],
                "x": i * slot,
                "opened": opened,
                "closed": closed,
                "h_open": h_open,
                "h_closed": h_closed,
                "y_open": height - h_open,
                "y_closed": height - h_closed,
            }
        )
    return {
        "months": months,
        "width": max(len(rows), 1) * slot,
        "height": height + 20,
        "base": height,
    }
