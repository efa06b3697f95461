"""Reads of the access area: who may see which petition, the due/overdue dashboard, answers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from taspa.access.models import CaseParty, Petition
from taspa.access.policy import Urgency, urgency
from taspa.courts.models import Case, Court, Hearing, HearingParticipant, User
from taspa.courts.policy import Action, Role
from taspa.courts.selectors import court_scope, has_role, party_hearings


def party_link(user: User, case: Case) -> CaseParty | None:
    """The court's link of ``user`` to ``case``; a hearing participant entry with the user's
    account counts as a link of a participant (R28)."""
    link = CaseParty.objects.filter(case=case, user=user).first()
    if link is not None:
        return link
    if HearingParticipant.objects.filter(hearing__case=case, user=user).exists():
        return CaseParty(case=case, user=user, role="participant")
    return None


def hearings_of_party(user: User) -> QuerySet[Hearing]:
    """The hearings a party may petition about online: those of the cases the court linked
    their account to, or where they are entered as a participant (R28, as ``party_link``)."""
    return (
        Hearing.objects.filter(party_hearings(user))
        .select_related("case__court", "recording")
        .order_by("-scheduled_at", "-id")
    )


def petitions_of_applicant(user: User) -> QuerySet[Petition]:
    """The petitions a person submitted (or the court registered for their account)."""
    return (
        Petition.objects.filter(applicant_user=user)
        .select_related("hearing__case__court", "copy", "review_slot", "receipt")
        .order_by("-created_at", "-id")
    )


def may_handle_petitions(user: User) -> bool:
    """Court staff who register and fulfil petitions somewhere (R28–R35)."""
    return Court.objects.filter(court_scope(user, Action.HANDLE_PETITIONS)).exists()


def visible_petitions(user: User) -> QuerySet[Petition]:
    """Court staff see the petitions of their courts; an applicant sees their own."""
    courts = Court.objects.filter(court_scope(user, Action.HANDLE_PETITIONS))
    query = Q(hearing__case__court__in=courts)
    if getattr(user, "is_authenticated", False):
        query |= Q(applicant_user=user)
    return Petition.objects.filter(query).select_related("hearing__case__court")


def petitions_due(user: User, due: str, today: date) -> QuerySet[Petition]:
    """Open petitions by deadline: ``overdue``, ``today``, ``tomorrow``, ``week`` or ``all``."""
    rows = visible_petitions(user).filter(state=Petition.State.OPEN)
    windows = {
        "overdue": Q(due_date__lt=today),
        "today": Q(due_date=today),
        "tomorrow": Q(due_date=today + timedelta(days=1)),
        "week": Q(due_date__lte=today + timedelta(days=7)),
    }
    return rows.filter(windows[due]) if due in windows else rows


def due_tomorrow_unreminded(today: date) -> QuerySet[Petition]:
    return Petition.objects.filter(
        state=Petition.State.OPEN, due_date=today + timedelta(days=1), reminded_on__isnull=True
    ).select_related("hearing__secretary", "registered_by", "hearing__case__court")


def reminder_recipients(petition: Petition) -> list[User]:
    people = [petition.hearing.secretary, petition.registered_by]
    return [u for u in people if has_role(u, Role.SECRETARY) or has_role(u, Role.COURT_ADMIN)]


def reminder_text(petition: Petition) -> str:
    case = petition.hearing.case
    return (
        f"Petition #{petition.pk} ({petition.kind}) by {petition.applicant_name} in case "
        f"{case.number} ({case.court.code}) reached the court on {petition.received_at:%d.%m.%Y} "
        f"and must be fulfilled by {petition.due_date:%d.%m.%Y} (R34)."
    )


def petition_answer(petition: Petition, today: date) -> dict[str, Any]:
    """The petition as the API shows it (CONTRACT.md: id, due_date, media; and the rest)."""
    answer: dict[str, Any] = {
        "id": petition.pk,
        "hearing": petition.hearing_id,
        "case": petition.hearing.case.number,
        "court": petition.hearing.case.court.code,
        "kind": petition.kind,
        "channel": petition.channel,
        "applicant": {
            "name": petition.applicant_name,
            "role": petition.applicant_role,
            "address": petition.applicant_address,
            "phone": petition.applicant_phone,
        },
        "delivery": petition.delivery,
        "received_at": petition.received_at.isoformat(),
        "due_date": petition.due_date.isoformat() if petition.due_date else None,
        "urgency": urgency(petition.due_date, today).value if petition.due_date else None,
        "media": petition.media or None,
        "form": petition.form or None,
        "rule": petition.rule,
        "personal_data_warning_acknowledged": petition.personal_data_warning_acknowledged,
        "medium_formatting_consent": petition.medium_formatting_consent,
        "state": petition.state,
        "refusal": {"reason": petition.refusal_reason, "at": petition.refused_at.isoformat()}
        if petition.refused_at
        else None,
    }
    return answer | _fulfilment(petition)


def _fulfilment(petition: Petition) -> dict[str, Any]:
    # A missing one-to-one row raises an AttributeError subclass: getattr's default covers it.
    copy = getattr(petition, "copy", None)
    slot = getattr(petition, "review_slot", None)
    receipt = getattr(petition, "receipt", None)
    return {
        "copy": copy.pk if copy else None,
        "download_url": f"/api/v1/copies/{copy.pk}/download" if copy else None,
        "review_slot": slot_answer(slot) if slot else None,
        "receipt": {
            "signed_by": receipt.signed_by_name,
            "channel": receipt.channel,
            "at": receipt.at.isoformat(),
        }
        if receipt
        else None,
    }


def slot_answer(slot: Any) -> dict[str, Any]:
    return {
        "starts_at": timezone.localtime(slot.starts_at).isoformat(),
        "place": slot.place,
        "held_at": slot.held_at.isoformat() if slot.held_at else None,
        "medium": slot.medium_id,
        "medium_checked_at": slot.medium_checked_at.isoformat() if slot.medium_checked_at else None,
        "medium_intact": slot.medium_intact,
    }


def is_overdue(petition: Petition, today: date) -> bool:
    return bool(petition.due_date) and urgency(petition.due_date, today) == Urgency.OVERDUE


def case_file_medium(hearing: Hearing) -> Any:
    """The valid case-file medium of ``hearing``'s recording that a review plays (R28, R29), or
    None when there is none yet (the review station then plays the court's own copy)."""
    from taspa.custody.models import Medium
    from taspa.custody.policy import HELD_STATES

    return (
        Medium.objects.filter(
            recording__hearing=hearing, valid=True, state__in=[s.value for s in HELD_STATES]
        )
        .order_by("-written_at", "-id")
        .first()
    )


def reviews_in_progress(user: User) -> list[dict[str, Any]]:
    """Booked reviews not closed by their receipt yet, each with the step it waits for (R28,
    R29, R35), for the staff page."""
    from taspa.access.policy import PetitionKind, next_review_step

    rows = (
        visible_petitions(user)
        .filter(kind=PetitionKind.REVIEW, state=Petition.State.FULFILLED)
        .select_related("review_slot", "hearing__case__court")
        .order_by("review_slot__starts_at", "id")[:200]
    )
    return [
        {
            "id": p.pk,
            "case": p.hearing.case.number,
            "applicant": p.applicant_name,
            "starts_at": p.review_slot.starts_at,
            "place": p.review_slot.place,
            "step": next_review_step(
                held=p.review_slot.held_at is not None,
                medium_checked=p.review_slot.medium_checked_at is not None,
            ).value,
        }
        for p in rows
    ]


def has_recording(hearing: Hearing) -> bool:
    """Whether the hearing was (or is being) recorded: a review or a copy can then be given."""
    from taspa.recorder.models import Recording

    return Recording.objects.filter(hearing=hearing).exists()
