"""Template filters for official documents laid out in one template for both languages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

register = template.Library()


@register.filter
def pick(mapping: Mapping[str, Any] | None, key: str) -> Any:
    """``{{ labels|pick:language }}``: the entry for ``key`` (the document's language)."""
    if not mapping:
        return ""
    return mapping.get(key, "")


@register.filter
def kind_title(kind: str, language: str) -> str:
    """``{{ incident.kind|kind_title:language }}``: an incident's kind in words, never its code."""
    from taspa.incidents.texts import kind_title as title

    return title(kind, language)


@register.filter
def detail_in(detail: str, language: str) -> str:
    """``{{ incident.detail|detail_in:language }}``: a reason the system wrote, in the document's
    language (a person's own reason as they wrote it)."""
    from taspa.incidents.detail_text import detail_in as stated

    return stated(detail, language)
