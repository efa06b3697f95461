"""``{{ incident.detail|incident_text }}``: see ``taspa.incidents.detail_text``."""

from __future__ import annotations

from django import template

from taspa.incidents.detail_text import incident_text as _incident_text

register = template.Library()


@register.filter
def incident_text(detail: str) -> str:
    return _incident_text(detail)
