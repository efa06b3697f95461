"""Every write of the access area (R28–R35): permission, rule, write and audit event in one
transaction. The rules themselves are in ``policy.py``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from taspa.access import selectors
from taspa.access.calendar import calendar_for, court_zone, local_today
from taspa.access.models import CaseParty, DayOverride, Petition, Receipt, ReviewSlot
from taspa.access.policy import (
    ApplicantRole,
    Decision,
    Delivery,
    PetitionKind,
    ReviewStep,
    acknowledgement_refusal,
    applicant_role,
    decide_petition,
    due_date,
    recording_refusal,
    review_step_refusal,
)
from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import Case, Hearing, User
from taspa.courts.permissions import allowed
from taspa.courts.policy import PARTY_ROLES, Action, CaseKind
from taspa.courts.selectors import has_role
from taspa.custody.models import Medium
from taspa.errors import Conflict, Forbidden, InvalidInput, RuleRefusal

log = logging.getLogger("taspa.access")


class PetitionRefused(RuleRefusal):
    """The regulation refuses the petition; ``offer`` is what may be asked instead (R32)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.code, decision.explanation)
        self.rule = decision.rule
        self.offer = decision.offer


@dataclass(frozen=True)
class Applicant:
    name: str
    role: str
    address: str = ""
    phone: str = ""


def _enum(enum_type: type, value: str, what: str) -> Any:
    try:
        return enum_type(value)
    except ValueError:
        names = ", ".join(member.value for member in enum_type)
        raise InvalidInput(
            f"unknown_{what}",
            _("Unknown %(what)s %(value)s: use %(names)s."),
            params={"what": what, "value": f"{value!r}", "names": names},
        ) from None


def link_case_party(*, actor: User, case: Case, user: User, role: str) -> CaseParty:
    """The court links a participant's or representative's account to a case, so the person
    may petition online through the information service (R28, R30)."""
    require(actor, Action.HANDLE_PETITIONS, case.court)
    party_role = _enum(ApplicantRole, role, "applicant_role")
    if party_role == ApplicantRole.OTHER:
        raise InvalidInput(
            "applicant_not_entitled", _("Only persons in the case are linked (R28).")
        )
    if not any(has_role(user, r, case.court) for r in PARTY_ROLES):
        raise InvalidInput(
            "not_a_party_account",
            _("%(user)s holds no participant or representative role in %(court_code)s."),
            params={"user": user, "court_code": case.court.code},
        )
    with transaction.atomic():
        link, created = CaseParty.objects.get_or_create(
            case=case, user=user, defaults={"role": party_role, "linked_by": actor}
        )
        if not created and link.role != party_role:
            link.role = party_role
            link.save(update_fields=["role"])
        record(
            actor=actor,
            action="access.party_link",
            target=link,
            payload={"case": case.number, "user": user.username, "role": party_role.value},
        )
    return link


def _refuse(actor: User, hearing: Hearing, decision: Decision, payload: dict) -> None:
    """Keep the refusal on record (committed), then raise it (R28–R32)."""
    with transaction.atomic():
        record(
            actor=actor,
            action="access.petition_refused",
            target=hearing,
            payload={**payload, "rule": decision.rule, "code": decision.code},
        )
    raise PetitionRefused(decision)


@dataclass(frozen=True)
class _Channel:
    channel: str
    role: ApplicantRole | None  # from the court's link for online petitions
    user: User | None


def _channel_of(actor: User, hearing: Hearing) -> _Channel:
    """Court staff register paper petitions; a linked party submits online (R28)."""
    if allowed(actor, Action.HANDLE_PETITIONS, hearing.case.court):
        return _Channel(Petition.Channel.PAPER, None, None)
    link = selectors.party_link(actor, hearing.case)
    if link is None:
        raise Forbidden(
            _("Only persons the court linked to this case petition online (R28)."),
            code="not_a_party_of_case",
        )
    return _Channel(Petition.Channel.ONLINE, ApplicantRole(link.role), actor)


def register_petition(
    *,
    actor: User,
    hearing: Hearing,
    kind: str,
    applicant: Applicant,
    delivery: str,
    received_at: date | None = None,
    personal_data_warning_acknowledged: bool = False,
    medium_formatting_consent: bool = False,
    applicant_user: User | None = None,
) -> Petition:
    """Register a petition for review or a copy (R28–R34): refused with the rule's code, or
    kept with its due date (R34) and the copy's media (R31)."""
    kind = _enum(PetitionKind, kind, "petition_kind")
    delivery = _enum(Delivery, delivery, "delivery")
    channel = _channel_of(actor, hearing)
    role = channel.role or applicant_role(applicant.role)
    if role is None:
        names = ", ".join(r.value for r in ApplicantRole)
        raise InvalidInput(
            "unknown_applicant_role",
            _("Applicant role: one of %(names)s."),
            params={"names": names},
        )
    if channel.channel == Petition.Channel.ONLINE:
        received_at = local_today()  # an online petition reaches the court when submitted
    received_at = received_at or local_today()
    if received_at > local_today():
        raise InvalidInput("received_in_future", _("The petition cannot reach the court later."))
    case_kind = CaseKind(hearing.case.kind)
    payload = {"kind": kind.value, "role": role.value, "applicant": applicant.name}
    decision = decide_petition(case_kind=case_kind, closed=hearing.closed, kind=kind, role=role)
    if not decision.granted:
        _refuse(actor, hearing, decision, payload)
    refusal = acknowledgement_refusal(kind, personal_data_warning_acknowledged)
    if refusal is not None:
        _refuse(actor, hearing, refusal, payload)
    refusal = recording_refusal(
        recorded=selectors.has_recording(hearing), online=channel.channel == Petition.Channel.ONLINE
    )
    if refusal is not None:
        _refuse(actor, hearing, refusal, payload)
    # R34 sets a term for copies only («Копия … предоставляется … в течение»); no rule sets one
    # for a review (п.28), so a review has no due date (docs/adr/0011).
    due = (
        due_date(case_kind, received_at, calendar_for(received_at, received_at))
        if kind == PetitionKind.COPY
        else None
    )
    with transaction.atomic():
        petition = Petition.objects.create(
            hearing=hearing,
            kind=kind,
            channel=channel.channel,
            applicant_name=applicant.name,
            applicant_role=role,
            applicant_role_as_written=applicant.role[:64],
            applicant_address=applicant.address,
            applicant_phone=applicant.phone,
            applicant_user=channel.user or applicant_user,
            delivery=delivery,
            received_at=received_at,
            due_date=due,
            media=decision.media or "",
            form=decision.form or "",
            rule=decision.rule,
            personal_data_warning_acknowledged=personal_data_warning_acknowledged,
            medium_formatting_consent=medium_formatting_consent,
            registered_by=actor,
        )
        record(
            actor=actor,
            action="access.petition_register",
            target=petition,
            payload={**payload, "due_date": due.isoformat() if due else None},
        )
    return petition


def _locked(petition: Petition) -> Petition:
    return (
        Petition.objects.select_for_update()
        .select_related("hearing__case__court")
        .get(pk=petition.pk)
    )


def _next_slot(petition: Petition) -> datetime:
    """R28: the next working day after today, 10:00 local, at the court's review station."""
    today = local_today()
    calendar = calendar_for(today, today + timedelta(days=30))
    day = today + timedelta(days=1)
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=court_zone())


def fulfil_petition(
    *, actor: User, petition: Petition, starts_at: datetime | None = None, place: str = ""
) -> Petition:
    """Fulfil: book the review (R28) or issue the copy package (R31). A second call returns
    what the first one made: nothing issued is ever altered."""
    require(actor, Action.HANDLE_PETITIONS, petition.hearing.case.court)
    if petition.state == Petition.State.REFUSED:
        raise Conflict("petition_refused", _("This petition was answered with a refusal."))
    if petition.kind == PetitionKind.COPY:
        from taspa.access.copies import issue_copy  # ffmpeg and bagit only where copies are made

        issue_copy(actor=actor, petition=petition)
        return Petition.objects.get(pk=petition.pk)
    with transaction.atomic():
        petition = _locked(petition)
        if ReviewSlot.objects.filter(petition=petition).exists():
            return petition
        slot = ReviewSlot.objects.create(
            petition=petition,
            starts_at=starts_at or _next_slot(petition),
            place=place or f"{petition.hearing.case.court.name}: review station",
            booked_by=actor,
        )
        _mark_fulfilled(petition)
        record(
            actor=actor,
            action="access.review_book",
            target=petition,
            payload={"starts_at": slot.starts_at.isoformat(), "place": slot.place},
        )
    return Petition.objects.get(pk=petition.pk)


REFUSAL_REASON_MAX = 2000


def refuse_petition(*, actor: User, petition: Petition, reason: str) -> Petition:
    """Answer an open petition the court cannot meet (no recording, the applicant is not who
    they said, …) with the reason: the answer counts for R34's term, and the petition leaves
    the list of those due. Nothing was issued, so nothing is withdrawn."""
    require(actor, Action.HANDLE_PETITIONS, petition.hearing.case.court)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_missing", _("Give the reason for the refusal."))
    if len(reason) > REFUSAL_REASON_MAX or "\x00" in reason:
        raise InvalidInput(
            "reason_invalid",
            _("At most %(count)s characters of text."),
            params={"count": REFUSAL_REASON_MAX},
        )
    with transaction.atomic():
        petition = _locked(petition)
        if petition.state != Petition.State.OPEN:
            raise Conflict(
                "petition_not_open", gettext_noop("This petition has already been answered.")
            )
        petition.state = Petition.State.REFUSED
        petition.refused_at = timezone.now()
        petition.refusal_reason = reason
        petition.save(update_fields=["state", "refused_at", "refusal_reason"])
        record(
            actor=actor,
            action="access.petition_answered_refused",
            target=petition,
            payload={"reason": reason, "due_date": str(petition.due_date or "")},
        )
    return petition


def _mark_fulfilled(petition: Petition) -> None:
    petition.state = Petition.State.FULFILLED
    petition.fulfilled_at = timezone.now()
    petition.save(update_fields=["state", "fulfilled_at"])


def _review_step(petition: Petition, step: ReviewStep) -> ReviewSlot | None:
    """The petition's review slot, locked, once ``step`` is allowed in the order R28 → R29 →
    R35 (``policy.review_step_refusal``); a copy petition has no review steps."""
    slot = ReviewSlot.objects.select_for_update().filter(petition=petition).first()
    if petition.kind != PetitionKind.REVIEW:
        return None
    refusal = review_step_refusal(
        step,
        booked=slot is not None,
        held=slot is not None and slot.held_at is not None,
        medium_checked=slot is not None and slot.medium_checked_at is not None,
    )
    if refusal is not None:
        raise Conflict(refusal, str(_REVIEW_ORDER[refusal]))
    return slot


_REVIEW_ORDER = {
    "review_not_booked": _("No review was booked on this petition."),
    "review_already_held": _("The review is already on record as held."),
    "review_not_held": _("The review has not taken place yet."),
    "medium_already_checked": _("The medium check is already on record."),
    "medium_not_checked": _("Staff must first check that the medium is intact after the review."),
}


def record_review_held(
    *, actor: User, petition: Petition, medium: Medium | None = None
) -> ReviewSlot:
    """R28: the applicant listened to (viewed) the recording at the review station. ``medium`` is
    the case-file medium that was played (default: the hearing's valid case-file medium, if
    any): R29's check after the review is of that medium."""
    require(actor, Action.HANDLE_PETITIONS, petition.hearing.case.court)
    with transaction.atomic():
        petition = _locked(petition)
        if petition.kind != PetitionKind.REVIEW:
            raise Conflict("not_a_review", _("Only a review petition is held in court."))
        slot = _review_step(petition, ReviewStep.HELD)
        medium = medium or selectors.case_file_medium(petition.hearing)
        if medium is not None and medium.case_id != petition.hearing.case_id:
            raise InvalidInput("medium_of_other_case", _("That medium belongs to another case."))
        slot.held_at, slot.held_by, slot.medium = timezone.now(), actor, medium
        slot.save(update_fields=["held_at", "held_by", "medium"])
        record(
            actor=actor,
            action="access.review_held",
            target=petition,
            payload={"medium": medium.pk if medium else None},
        )
    return slot


def record_medium_check(*, actor: User, petition: Petition, intact: bool) -> ReviewSlot:
    """R29: after the review, court staff check visually that the medium played is intact."""
    require(actor, Action.HANDLE_PETITIONS, petition.hearing.case.court)
    with transaction.atomic():
        petition = _locked(petition)
        slot = _review_step(petition, ReviewStep.MEDIUM_CHECKED)
        if slot is None:
            raise Conflict("not_a_review", _("Only a review petition has a medium check."))
        slot.medium_checked_at, slot.medium_intact = timezone.now(), intact
        slot.medium_checked_by = actor
        slot.save(update_fields=["medium_checked_at", "medium_intact", "medium_checked_by"])
        record(
            actor=actor,
            action="access.medium_check",
            target=petition,
            payload={"intact": intact, "medium": slot.medium_id},
        )
    return slot


def _receipt_channel(actor: User, petition: Petition) -> str:
    if allowed(actor, Action.HANDLE_PETITIONS, petition.hearing.case.court):
        return Receipt.Channel.PAPER
    if petition.applicant_user_id == actor.pk:
        return Receipt.Channel.ONLINE
    raise Forbidden(_("Only the applicant or court staff record the receipt (R35)."))


def record_receipt(
    *, actor: User, petition: Petition, signed_by_name: str = "", note: str = ""
) -> Receipt:
    """R35: the person who reviewed the recording or received the copy signs a mark on the
    petition (on paper, recorded by staff, or online by the applicant); the petition closes."""
    channel = _receipt_channel(actor, petition)
    with transaction.atomic():
        petition = _locked(petition)
        if petition.state == Petition.State.OPEN:
            raise Conflict("petition_not_fulfilled", _("Nothing was reviewed or received yet."))
        if Receipt.objects.filter(petition=petition).exists():
            raise Conflict(
                "receipt_exists", gettext_noop("The receipt mark is already on the petition.")
            )
        _review_step(petition, ReviewStep.RECEIPT)  # R35 after the review and R29's check
        receipt = Receipt.objects.create(
            petition=petition,
            signed_by_name=signed_by_name or petition.applicant_name,
            channel=channel,
            at=timezone.now(),
            recorded_by=actor,
            note=note,
        )
        petition.state = Petition.State.CLOSED
        petition.save(update_fields=["state"])
        record(
            actor=actor,
            action="access.receipt",
            target=petition,
            payload={"signed_by": receipt.signed_by_name, "channel": channel},
        )
    return receipt


def save_day_override(*, actor: User, override: DayOverride) -> DayOverride:
    """An administrator records a decreed move of a day off (R34), from Django's admin."""
    require(actor, Action.MANAGE_COURTS)
    with transaction.atomic():
        override.save()
        record(
            actor=actor,
            action="access.day_override",
            target=override,
            payload={"day": override.day.isoformat(), "kind": override.kind},
        )
    return override


def send_reminders(today: date | None = None) -> int:
    """R34: the day before a petition falls due, remind the hearing's secretary and whoever
    registered it (e-mail through Django's mail framework). Idempotent per petition."""
    from django.core.mail import send_mail

    today = today or local_today()
    sent = 0
    for petition in selectors.due_tomorrow_unreminded(today):
        recipients = sorted({u.email for u in selectors.reminder_recipients(petition) if u.email})
        with transaction.atomic():
            claimed = Petition.objects.filter(pk=petition.pk, reminded_on__isnull=True).update(
                reminded_on=today
            )
            if not claimed:
                continue
            record(
                actor=None,
                action="access.reminder",
                target=petition,
                payload={"due_date": petition.due_date.isoformat(), "to": recipients},
            )
        if recipients:
            send_mail(
                f"Petition #{petition.pk} is due {petition.due_date:%d.%m.%Y} (R34)",
                selectors.reminder_text(petition),
                getattr(settings, "DEFAULT_FROM_EMAIL", None),
                recipients,
            )
        sent += 1
    return sent
