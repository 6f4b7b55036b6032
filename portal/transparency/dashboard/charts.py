"""The charts' geometry, and the charts as inline SVG (``bars_svg``, ``months_svg``).

Our own SVG, not pygal: pygal writes its look into a ``<style>`` element and inline ``style``
attributes inside the SVG, which this site's Content-Security-Policy (``style-src 'self'``)
blocks, and it adds a script for its tooltips; our SVG takes its colours from main.css by
class, carries a title and a description, and each chart sits beside a table of the same
numbers. Geometry is plain arithmetic over a few dozen values (microseconds); the SVG is
written here rather than in a template, where each bar's half-dozen numbers cost an escape
and an attribute lookup apiece (a tenth of the dashboard's work)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from portal.core.templating import written_html

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


def _svg(chart: dict, id: str, title: str, desc: str, body: list[str]) -> Markup:
    """The chart's ``<svg>`` element: labelled by its title and description, sized by
    ``chart``, around ``body`` (its shapes, already escaped)."""
    i = escape(id)
    head = (
        f'<svg class="chart" id="{i}" role="img" aria-labelledby="{i}-t {i}-d"\n'
        f'     viewBox="0 0 {chart["width"]} {chart["height"]}"'
        ' preserveAspectRatio="xMinYMin meet">\n'
        f'  <title id="{i}-t">{escape(title)}</title>\n'
        f'  <desc id="{i}-d">{escape(desc)}</desc>\n'
    )
    # Numbers, escaped text and our own markup.
    return written_html(head + "".join(body) + "</svg>")


def bars_svg(chart: dict, id: str, title: str, desc: str) -> Markup:
    """A ``bar_chart`` as SVG: each bar's label above it and its value after it."""
    body = [
        f'  <text class="chart-label" x="0" y="{b["y"] + 16}">{escape(b["label"])}</text>\n'
        f'  <rect class="chart-bar" x="0" y="{b["y"] + 22}" width="{b["width"]}" height="22">'
        "</rect>\n"
        f'  <text class="chart-value" x="{b["width"] + 4}" y="{b["y"] + 39}">'
        f"{escape(b['text'])}</text>\n"
        for b in chart["bars"]
    ]
    return _svg(chart, id, title, desc, body)


def months_svg(chart: dict, id: str, title: str, desc: str) -> Markup:
    """A ``month_chart`` as SVG: per month the cases opened (left bar) and closed (right)."""
    label_y = chart["base"] + 16
    body = [
        f'  <rect class="chart-bar" x="{m["x"] + 4}" y="{m["y_open"]}" width="15" '
        f'height="{m["h_open"]}"></rect>\n'
        f'  <rect class="chart-bar-alt" x="{m["x"] + 20}" y="{m["y_closed"]}" width="15" '
        f'height="{m["h_closed"]}"></rect>\n'
        f'  <text class="chart-label" x="{m["x"] + 6}" y="{label_y}">{escape(m["label"])}</text>\n'
        for m in chart["months"]
    ]
    return _svg(chart, id, title, desc, body)
