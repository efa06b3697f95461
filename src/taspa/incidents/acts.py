"""Every write about acts (R17, R18): drawing one up from incidents, and signing it.

An act is issued as two separate PDFs with the same number and date — Kazakh first, then
Russian (``issue_bilingual``). Each required signer signs both with their own registered EDS
key; each signature is an incremental PAdES revision, so the earlier signatures stay valid and
anyone can check all of them (``taspa verify act.pdf``). When the last required signature is in,
the act is complete and attached to the hearing's minutes (R18).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from taspa.audit.actions import record
from taspa.courts.models import Court, Hearing, User
from taspa.errors import Conflict, Forbidden, InvalidInput
from taspa.incidents.models import Act, ActSignature, Incident
from taspa.incidents.policy import (
    ACT_KINDS,
    COURT_ADMIN,
    REGIONAL_HEAD,
    REGIONAL_STAFF,
    SECRETARY,
    ActStatus,
    act_signer_roles,
    act_status,
)

ACT_TEMPLATE = "incidents/act.html"


def may_sign_as(user: User, role: str, hearing: Hearing) -> bool:
    """R18: the hearing's own secretary (or stand-in); an administrator of the hearing's court;
    the head or a staff member of the regional administration of that court's region."""
    from taspa.courts.selectors import assignments_of

    court = hearing.case.court
    held = assignments_of(user)
    if role == SECRETARY:
        return user.pk in (hearing.secretary_id, hearing.stand_in_id) and any(
            a.role == SECRETARY and a.court_id == court.pk for a in held
        )
    if role == COURT_ADMIN:
        return any(a.role == COURT_ADMIN and a.court_id == court.pk for a in held)
    if role in (REGIONAL_HEAD, REGIONAL_STAFF):
        return any(a.role == role and a.court.region == court.region for a in held)
    return False


def _require_drafter(actor: User | None, hearing: Hearing) -> None:
    """Who may draw up an act: the system (R17 detection), or anyone who could sign it."""
    if actor is None:
        return
    roles = (SECRETARY, COURT_ADMIN, REGIONAL_HEAD, REGIONAL_STAFF)
    if not any(may_sign_as(actor, role, hearing) for role in roles):
        raise Forbidden(_("Only the officials who sign acts may draw one up (R18)."))


def _next_number(court: Court, year: int) -> int:
    """Acts are numbered per court and year. The court's row is locked, so two acts drawn up
    at once queue for their numbers instead of taking the same one."""
    Court.objects.select_for_update().filter(pk=court.pk).first()
    last = Act.objects.filter(court=court, year=year).aggregate(last=Max("number"))["last"]
    return (last or 0) + 1


def draw_up_act(*, actor: User | None, hearing: Hearing, incidents: Sequence[Incident]) -> Act:
    """R17: an act on the incidents of one hearing, pending until every signer of R18 signs."""
    from taspa.documents.render import issue_bilingual
    from taspa.incidents.selectors import act_context

    _require_drafter(actor, hearing)
    if not incidents:
        raise InvalidInput("act_needs_incidents", _("Name the incidents the act is about."))
    # Read afresh: the act states what is on record now (judge told, announcement made).
    incidents = list(Incident.objects.filter(pk__in=[i.pk for i in incidents]).order_by("at", "id"))
    if any(incident.hearing_id != hearing.pk for incident in incidents):
        raise InvalidInput(
            "incident_of_another_hearing", _("Every incident must be of this hearing.")
        )
    with transaction.atomic():
        taken = Act.incidents.through.objects.filter(incident__in=incidents)
        if taken.exists():
            raise Conflict(
                "incident_already_in_act",
                gettext_noop("An incident of this hearing is already in an act."),
            )
        now = timezone.now()
        today = timezone.localdate(now)
        court = hearing.case.court
        act = Act(
            court=court,
            year=today.year,
            number=_next_number(court, today.year),
            date=today,
            hearing=hearing,
            required_roles=list(act_signer_roles(hearing.instance)),
            created_at=now,
            created_by=actor,
        )
        kk, ru = issue_bilingual(ACT_TEMPLATE, act_context(act, incidents))
        act.pdf_kk, act.pdf_ru = kk.pdf, ru.pdf
        act.save()
        act.incidents.set(incidents)
        record(
            actor=actor,
            action="act.draw_up",
            target=act,
            payload={
                "number": f"{act.number}/{act.year}",
                "hearing": hearing.pk,
                "incidents": [incident.pk for incident in incidents],
                "required": act.required_roles,
                "sha256_kk": hashlib.sha256(kk.pdf).hexdigest(),
                "sha256_ru": hashlib.sha256(ru.pdf).hexdigest(),
            },
        )
    return act


def draft_pending_act(*, hearing: Hearing) -> Act | None:
    """R17: the act Taspa draws up by itself once the hearing is over, on every incident of an
    R17 kind (recording impossible, not recorded) that no act covers yet — ready for the signers
    R18 requires, who find it in their inbox. ``None`` when there is nothing to act on.

    Idempotent: an incident already in an act is never taken again, so the periodic job, the
    secretary's notice to the administrator and the R17 check may all call it."""
    pending = list(
        Incident.objects.filter(hearing=hearing, kind__in=[k.value for k in ACT_KINDS])
        .exclude(acts__isnull=False)
        .order_by("at", "id")
    )
    if not pending:
        return None
    try:
        act = draw_up_act(actor=None, hearing=hearing, incidents=pending)
    except Conflict:  # drawn up concurrently by another caller
        return None
    _tell_signers(act)
    return act


def _tell_signers(act: Act) -> None:
    """R18: each person who may sign the act in a required role gets a notice in their inbox."""
    from taspa.incidents.actions import notify_act_signers

    notify_act_signers(act=act)


def sign_act(*, actor: User, act: Act, role: str | None = None) -> Act:
    """R18: ``actor`` signs both language versions of ``act`` with their own EDS key, in the
    first required role they hold that nobody has signed in yet (or in ``role``)."""
    from taspa.documents.pades import sign_pdf
    from taspa.sealing.actions import revocation_before_signing, signer_for

    hearing = act.hearing
    mine = [r for r in act.required_roles if may_sign_as(actor, r, hearing)]
    if role is not None:
        mine = [r for r in mine if r == role]
    if not mine:
        raise Forbidden(
            _("You are not among the signers this act requires (R18)."),
            code="not_a_required_signer",
        )
    signer = signer_for(actor)  # SigningUnavailable (422) when the key is missing or expired
    # The CA's word on the certificate (OCSP, else CRL), asked before the act is locked: a
    # revoked one refuses (422 certificate_revoked); the answer goes into the PDF (PAdES-LT).
    rev = revocation_before_signing(signer)
    with transaction.atomic():
        act = Act.objects.select_for_update().get(pk=act.pk)
        signed = {s.role: s for s in act.signatures.all()}
        if any(s.user_id == actor.pk for s in signed.values()):
            raise Conflict("already_signed", _("You have already signed this act."))
        open_roles = [r for r in mine if r not in signed]
        if not open_roles:
            raise Conflict(
                "already_signed",
                _("The act already bears the signature of your role."),
            )
        role = open_roles[0]
        reason = f"R18 act {act.number}/{act.year}: {role}"
        act.pdf_kk = sign_pdf(act.pdf("kk"), signer, field_name=role, reason=reason, revocation=rev)
        act.pdf_ru = sign_pdf(act.pdf("ru"), signer, field_name=role, reason=reason, revocation=rev)
        now = timezone.now()
        signature = ActSignature.objects.create(
            act=act,
            role=role,
            user=actor,
            signed_at=now,
            subject=signer.certificate.subject.rfc4514_string(),
            sha256_kk=hashlib.sha256(act.pdf_kk).hexdigest(),
            sha256_ru=hashlib.sha256(act.pdf_ru).hexdigest(),
        )
        act.status = act_status(act.required_roles, {*signed, role}).value
        if act.status == ActStatus.COMPLETE:
            act.attached_to_minutes_at = now  # R18: the act joins the hearing's minutes
        act.save()
        record(
            actor=actor,
            action="act.sign",
            target=act,
            payload={
                "role": role,
                "subject": signature.subject,
                "sha256_kk": signature.sha256_kk,
                "sha256_ru": signature.sha256_ru,
                "status": act.status,
            },
        )
        if act.status == ActStatus.COMPLETE:
            record(
                actor=actor,
                action="act.attach_to_minutes",
                target=act,
                payload={"hearing": hearing.pk},
            )
    return act
