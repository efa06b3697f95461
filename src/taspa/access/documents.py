"""Appendix 1 and Appendix 2 (R31) filled from a petition, as PDF to print and sign by hand.

Each form exists as two separate documents, Kazakh and Russian (``documents.render``); the
Russian text is the regulation's own, word for word. The petition's receipt mark (R35), once
recorded, is printed under the form.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa.access.models import Petition
from taspa.access.policy import Form, PetitionKind
from taspa.documents.render import IssuedDocument, issue_bilingual, render_pdf
from taspa.errors import Conflict

TEMPLATES = {
    Form.APPENDIX_1: "access/forms/appendix1.html",
    Form.APPENDIX_2: "access/forms/appendix2.html",
}


def form_context(petition: Petition) -> dict[str, Any]:
    hearing = petition.hearing
    receipt = getattr(petition, "receipt", None)
    return {
        "petition": petition,
        "judge": hearing.judge.get_full_name() or str(hearing.judge),
        "court": hearing.case.court.name,
        "case_number": hearing.case.number,
        "case_kind": hearing.case.kind,
        "hearing_date": timezone.localtime(hearing.scheduled_at).date(),
        "online": petition.delivery == "online",
        "signed_on": petition.received_at,
        "receipt": receipt,
    }


def _template(petition: Petition) -> str:
    if petition.kind != PetitionKind.COPY or not petition.form:
        raise Conflict(
            "no_official_form",
            _("Appendix 1 and 2 are the forms for copies; a review petition has no set form."),
        )
    return TEMPLATES[Form(petition.form)]


def form_pdf(petition: Petition, language: str) -> bytes:
    """The petition's form in ``language`` (kk or ru), one PDF."""
    return render_pdf(_template(petition), form_context(petition), language)


def form_documents(petition: Petition) -> list[IssuedDocument]:
    """Both documents, Kazakh first, then Russian."""
    return issue_bilingual(_template(petition), form_context(petition))
