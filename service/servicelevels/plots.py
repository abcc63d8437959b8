"""The service-levels plots as SVG, drawn here (no plotting library, no script, no CDN): daily volume by level
and the distribution of time to first contact. Every text is escaped; colours are attributes, not styles
(the dashboard's Content-Security-Policy allows no inline style)."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape, quoteattr

from ..engine.flow import Level
from ..escalation.cases import LEVEL_WORDS

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 170, 30, 44  # room for the axis, the legend, the title, the day labels
COLOURS = {"call_911_now": "#9b1c1c", "ed_now": "#d9480f", "seen_today": "#e8a317", "seen_within_24h": "#3b5b92",
           "seen_within_3_days": "#6c9bc2", "home_care": "#7aa36f"}
NONE_COLOUR = "#9e9e9e"


def _svg(title: str, body: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label={quoteattr(title)} font-family="sans-serif" '
            f'font-size="12"><title>{escape(title)}</title>'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
            f'<text x="{LEFT}" y="18" font-size="14" font-weight="bold">{escape(title)}</text>')
    return head + "".join(body) + "</svg>"


def _axis(top: int, plot_height: int, highest: int, right: int) -> tuple[list[str], float]:
    """A y axis with whole-number ticks; returns its parts and pixels per case."""
    highest = max(highest, 1)
    step = max(1, -(-highest // 5))
    ceiling = step * -(-highest // step)
    scale = plot_height / ceiling
    parts = []
    for value in range(0, ceiling + 1, step):
        y = top + plot_height - value * scale
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e0e0e0"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    return parts, scale


def daily_volume(daily: list[tuple[date, dict[str, int]]], levels: list[str]) -> str:
    """Cases opened each day, stacked by level (most urgent at the bottom)."""
    right, plot_height = WIDTH - RIGHT, HEIGHT - TOP - BOTTOM
    parts, scale = _axis(TOP, plot_height, max((sum(c.values()) for _, c in daily), default=0), right)
    slot = (right - LEFT) / max(len(daily), 1)
    bar = min(slot * 0.7, 48)
    label_every = max(1, len(daily) // 12)  # 30 days: a label every few days
    for index, (day, counts) in enumerate(daily):
        x = LEFT + index * slot + (slot - bar) / 2
        y = TOP + plot_height
        for level in levels:
            n = counts.get(level, 0)
            if not n:
                continue
            h = n * scale
            y -= h
            tip = f"{day:%a %d %b}: {n} {LEVEL_WORDS[Level(level)]}"
            parts.append(f'<rect class="bar" data-day="{day.isoformat()}" data-level="{level}" data-count="{n}" '
                         f'x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{COLOURS[level]}">'
                         f'<title>{escape(tip)}</title></rect>')
        if index % label_every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{TOP + plot_height + 16}" text-anchor="middle">'
                         f'{escape(f"{day:%a %d}")}</text>')
    for row, level in enumerate(levels):  # the legend
        y = TOP + 10 + row * 20
        parts.append(f'<rect x="{right + 16}" y="{y - 10}" width="12" height="12" fill="{COLOURS[level]}"/>'
                     f'<text x="{right + 34}" y="{y}">{escape(LEVEL_WORDS[Level(level)])}</text>')
    if not any(counts for _, counts in daily):
        parts.append(f'<text x="{(LEFT + right) / 2:.0f}" y="{TOP + plot_height / 2:.0f}" text-anchor="middle" '
                     f'fill="#757575">No cases in this period</text>')
    return _svg("Cases opened each day, by level", parts)


def contact_distribution(histogram: list[tuple[str, int]]) -> str:
    """How long patients waited for a nurse's first contact (the last bar: not reached yet)."""
    top = TOP + 14  # room above the tallest bar for its count
    right, plot_height = WIDTH - 30, HEIGHT - top - BOTTOM
    parts, scale = _axis(top, plot_height, max((n for _, n in histogram), default=0), right)
    slot = (right - LEFT) / max(len(histogram), 1)
    bar = slot * 0.7
    for index, (label, n) in enumerate(histogram):
        x = LEFT + index * slot + (slot - bar) / 2
        h = n * scale
        colour = NONE_COLOUR if index == len(histogram) - 1 else "#3b5b92"
        parts.append(f'<rect class="bar" data-bucket={quoteattr(label)} data-count="{n}" x="{x:.1f}" '
                     f'y="{top + plot_height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                     f'<title>{escape(f"{label}: {n} cases")}</title></rect>'
                     f'<text x="{x + bar / 2:.1f}" y="{top + plot_height + 16}" text-anchor="middle">'
                     f'{escape(label)}</text>')
        if n:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_height - h - 4:.1f}" text-anchor="middle">'
                         f'{n}</text>')
    return _svg("Time from opening to a nurse's first contact", parts)
