"""Official documents as PDF: Django templates rendered by WeasyPrint.

Every document Taspa issues exists as two separate documents with the same number and date,
Kazakh first (the state language), then Russian; never one mixed-language form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

OFFICIAL_LANGUAGES = ("kk", "ru")  # the order documents are issued in


@dataclass(frozen=True)
class IssuedDocument:
    language: str
    pdf: bytes


def render_html(template: str, context: Mapping[str, Any], language: str) -> str:
    with translation.override(language):
        return render_to_string(template, {**context, "language": language})


def render_pdf(template: str, context: Mapping[str, Any], language: str) -> bytes:
    from weasyprint import HTML  # heavy import: only where a PDF is made

    return HTML(string=render_html(template, context, language)).write_pdf()


def issue_bilingual(template: str, context: Mapping[str, Any]) -> list[IssuedDocument]:
    """The document in Kazakh, then in Russian: two separate PDFs."""
    return [
        IssuedDocument(lang, render_pdf(template, context, lang)) for lang in OFFICIAL_LANGUAGES
    ]
