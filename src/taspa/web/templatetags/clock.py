"""Offsets and durations as hh:mm:ss: one format for the console, the timeline and playback.

``{{ seconds|hms }}`` in templates; ``hms(seconds)`` in Python (the console's messages); the
browser's counters use the same shape (``console.js``, ``playback.js``)."""

from __future__ import annotations

import math

from django import template

register = template.Library()


@register.filter
def hms(seconds: float | int | str | None) -> str:
    """``4000.7`` → ``01:06:40``; hours go past 99 as they come; nothing or garbage → "—"."""
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(value):
        return "—"
    sign = "-" if value < 0 else ""
    whole = int(abs(value))
    return f"{sign}{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
