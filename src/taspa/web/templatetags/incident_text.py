"""``{{ incident.detail|incident_text }}``: see ``taspa.web.incident_text``."""

from __future__ import annotations

from django import template

from taspa.web.incident_text import incident_text as _incident_text

register = template.Library()


@register.filter
def incident_text(detail: str) -> str:
    return _incident_text(detail)
