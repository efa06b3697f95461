"""Every write about incidents: opening them (R9, R16, R17), recording when the judge was told
and when the participants heard the announcement, and the notices of R9 — to the court
administrator after the hearing, and from the administrator on to the regional judicial
administration's staff. None of it ever stops or blocks the hearing (R10)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa.audit.actions import record
from taspa.courts.models import Case, Hearing, User
from taspa.errors import Conflict, Forbidden, InvalidInput
from taspa.incidents import texts
from taspa.incidents.models import Act, Incident, MinutesDecision, Notification
from taspa.incidents.policy import REPORTABLE_KINDS, IncidentKind
from taspa.limits import FORWARD_NOTE, INCIDENT_DETAIL, require_text

log = logging.getLogger("taspa.incidents")
ENDED_STATES = (Hearing.State.STOPPED, Hearing.State.SEALED)
# A time a person enters may be a little ahead of the server's clock, never more.
CLOCK_SKEW = timedelta(minutes=2)


def open_incident(
    *,
    actor: User | None,
    hearing: Hearing,
    kind: str,
    detail: str,
    gap_start: datetime | None = None,
    gap_end: datetime | None = None,
) -> Incident:
    """Record a failure or a break. People may report only the kinds in REPORTABLE_KINDS; the
    recorder (actor=None) reports what it detects. The hearing goes on either way (R10).

    An incident opened after the hearing ended (a signing failure at sealing, R17's check) goes
    to the court administrator at once; earlier ones wait for the end of the hearing (R9)."""
    try:
        kind = IncidentKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in REPORTABLE_KINDS)
        raise InvalidInput(
            "unknown_incident_kind",
            _("Unknown kind %(kind)s: use %(allowed)s."),
            params={"kind": f"{kind!r}", "allowed": allowed},
        ) from None
    if actor is not None and kind not in REPORTABLE_KINDS:
        allowed = ", ".join(k.value for k in REPORTABLE_KINDS)
        raise InvalidInput(
            "incident_kind_not_reportable",
            _("People report %(allowed)s."),
            params={"allowed": allowed},
        )
    if not detail.strip():
        raise InvalidInput("incident_detail_required", _("Give the reason for the minutes (R9)."))
    require_text(detail, field="detail", max_length=INCIDENT_DETAIL)  # it goes into the act
    with transaction.atomic():
        incident = Incident.objects.create(
            hearing=hearing,
            kind=kind,
            detail=detail,
            at=timezone.now(),
            gap_start=gap_start,
            gap_end=gap_end,
            reported_by=actor,
        )
        record(
            actor=actor,
            action="incident.open",
            target=incident,
            payload={"hearing": hearing.pk, "kind": kind.value, "detail": detail},
        )
        if Hearing.objects.filter(pk=hearing.pk, state__in=ENDED_STATES).exists():
            notify_court_admins(hearing=hearing)
    return incident


def report_incident(*, actor: User, hearing: Hearing, kind: str, detail: str) -> Incident:
    """R9: the secretary operating the recorder reports that recording is impossible."""
    _require_operator(actor, hearing)
    return open_incident(actor=actor, hearing=hearing, kind=kind, detail=detail)


def _require_operator(actor: User, hearing: Hearing) -> None:
    from taspa.courts.actions import require
    from taspa.courts.policy import Action

    require(actor, Action.OPERATE_RECORDER, hearing)


def _moment(at: datetime | None) -> datetime:
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise InvalidInput("naive_time", _("Give the time with its UTC offset."))
    if at > now + CLOCK_SKEW:
        raise InvalidInput("time_in_future", _("That time has not come yet."))
    return at


def record_judge_told(*, actor: User, incident: Incident, at: datetime | None = None) -> Incident:
    """R9: the secretary tells the judge that recording is impossible; the time is kept for the
    minutes and the act."""
    _require_operator(actor, incident.hearing)
    moment = _moment(at)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.judge_told_at is not None:
            raise Conflict("judge_already_told", _("The time the judge was told is recorded."))
        incident.judge_told_at = moment
        incident.save(update_fields=["judge_told_at"])
        record(
            actor=actor,
            action="incident.judge_told",
            target=incident,
            payload={"at": moment.isoformat()},
        )
    return incident


def record_announced(*, actor: User, incident: Incident, at: datetime | None = None) -> Incident:
    """R16: the participants were told that recording cannot continue (the text the UI shows,
    ``announcement_text``, was read out at ``at``)."""
    _require_operator(actor, incident.hearing)
    moment = _moment(at)
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident.pk)
        if incident.announced_at is not None:
            raise Conflict("already_announced", _("The announcement is already recorded."))
        incident.announced_at = moment
        incident.save(update_fields=["announced_at"])
        record(
            actor=actor,
            action="incident.announced",
            target=incident,
            payload={"at": moment.isoformat()},
        )
    return incident


# --- notices (R9) --------------------------------------------------------------------------------


def language_of(user: User) -> str:
    return user.language if user.language in texts.LANGUAGES else settings.LANGUAGE_CODE


def _local(moment: datetime | None, pattern: str = "%d.%m.%Y %H:%M:%S") -> str:
    return timezone.localtime(moment).strftime(pattern) if moment else "—"


def _facts(incident: Incident, language: str, **extra: str) -> dict[str, str]:
    hearing = incident.hearing
    return {
        "court": hearing.case.court.name,
        "case": hearing.case.number,
        "date": _local(hearing.scheduled_at, "%d.%m.%Y"),
        "kind": texts.kind_title(incident.kind, language),
        "detail": incident.detail,
        "at": _local(incident.at),
        "judge_told": _local(incident.judge_told_at),
        "announced": _local(incident.announced_at),
        **extra,
    }


def _notify(recipient: User, kind: str, incident: Incident, **extra: str) -> Notification:
    """Put a notice in ``recipient``'s inbox and queue its e-mail. Queued inside the caller's
    transaction: with the database task queue the e-mail goes out only if the notice exists."""
    from taspa.incidents.tasks import send_notification_email

    language = language_of(recipient)
    subject, body = texts.notice(kind, language, _facts(incident, language, **extra))
    notification = Notification.objects.create(
        recipient=recipient,
        kind=kind,
        subject=subject[:255],
        body=body,
        incident=incident,
        created_at=timezone.now(),
    )
    send_notification_email.enqueue(notification.pk)
    return notification


def notify_media_missing(
    *, case: Case, files: list[str], secretaries: list[User], archivist: User
) -> list[Notification]:
    """R22: the archivist accepted ``case`` and flagged the media of ``files`` as missing from
    it. The court's administrators and the secretaries who had those media (R21) get a notice
    in their inbox, and by e-mail, in their own language. Call inside the acceptance's
    transaction: no acceptance, no notice."""
    from taspa.courts.policy import Role
    from taspa.incidents.tasks import send_notification_email

    admins = User.objects.filter(
        is_active=True, role_assignments__role=Role.COURT_ADMIN, role_assignments__court=case.court
    ).distinct()
    recipients = {user.pk: user for user in [*admins, *secretaries] if user.is_active}
    facts = {
        "court": case.court.name,
        "case": case.number,
        "files": "\n".join(f"- {name}" for name in files),
        "archivist": archivist.full_name or archivist.username,
        "at": _local(timezone.now()),
    }
    sent = []
    for recipient in recipients.values():
        subject, body = texts.notice("media_missing", language_of(recipient), facts)
        notification = Notification.objects.create(
            recipient=recipient,
            kind="media_missing",
            subject=subject[:255],
            body=body,
            created_at=timezone.now(),
        )
        send_notification_email.enqueue(notification.pk)
        sent.append(notification)
    return sent


def court_admins(hearing: Hearing) -> list[User]:
    from taspa.courts.policy import Role

    return list(
        User.objects.filter(
            is_active=True,
            role_assignments__role=Role.COURT_ADMIN,
            role_assignments__court=hearing.case.court,
        ).distinct()
    )


def regional_staff(hearing: Hearing) -> list[User]:
    from taspa.courts.policy import Role

    return list(
        User.objects.filter(
            is_active=True,
            role_assignments__role=Role.REGIONAL_STAFF,
            role_assignments__court__region=hearing.case.court.region,
        ).distinct()
    )


def notify_court_admins(*, hearing: Hearing, actor: User | None = None) -> list[Notification]:
    """R9: after the hearing, every incident of it not yet reported goes to the court's
    administrators (inbox and e-mail). Idempotent: each incident is reported once."""
    sent: list[Notification] = []
    with transaction.atomic():
        pending = list(
            Incident.objects.select_for_update()
            .select_related("hearing__case__court")
            .filter(hearing=hearing, admin_notified_at__isnull=True)
        )
        if not pending:
            return sent
        admins = court_admins(hearing)
        if not admins:
            log.warning("court %s has no administrator to notify", hearing.case.court.code)
            return sent
        now = timezone.now()
        for incident in pending:
            sent += [_notify(admin, "incident_to_admin", incident) for admin in admins]
            incident.admin_notified_at = now
            incident.save(update_fields=["admin_notified_at"])
            record(
                actor=actor,
                action="incident.notify_admin",
                target=incident,
                payload={"to": [admin.username for admin in admins]},
            )
    return sent


def inform_court_admin(*, actor: User, incident: Incident) -> Incident:
    """R9: the secretary informs the court administrator after the hearing — needed where the
    hearing had no recording to stop (the recorder's stop notifies by itself). The hearing is
    then over, so R17's act is drawn up for it now."""
    from taspa.incidents.acts import draft_pending_act

    _require_operator(actor, incident.hearing)
    notify_court_admins(hearing=incident.hearing, actor=actor)
    draft_pending_act(hearing=incident.hearing)
    return Incident.objects.get(pk=incident.pk)


def session_secretary_of(hearing: Hearing) -> User:
    """R7: the secretary of the session as held — whoever operated the recorder, else the
    assigned stand-in, else the assigned secretary."""
    from taspa.recorder.models import Recording

    recording = Recording.objects.filter(hearing=hearing).first()
    operated = recording.operated_by if recording is not None else None
    return operated or hearing.stand_in or hearing.secretary


def act_signers(act: Act) -> list[User]:
    """The people who may sign ``act`` in one of its required roles (R18)."""
    from taspa.courts.policy import Role

    hearing = act.hearing
    people: list[User] = []
    for role in act.required_roles:
        if role == Role.SECRETARY:
            people.append(session_secretary_of(hearing))
        elif role == Role.COURT_ADMIN:
            people += court_admins(hearing)
        else:
            people += list(
                User.objects.filter(
                    is_active=True,
                    role_assignments__role=role,
                    role_assignments__court__region=hearing.case.court.region,
                ).distinct()
            )
    return list({person.pk: person for person in people}.values())


def notify_act_signers(*, act: Act) -> list[Notification]:
    """R18: tell every possible signer that ``act`` awaits their signature (inbox and e-mail)."""
    incident = act.incidents.order_by("at", "id").first()
    number = f"{act.number}/{act.year}"
    with transaction.atomic():
        sent = [_notify(person, "act_to_sign", incident, act=number) for person in act_signers(act)]
        record(
            actor=None,
            action="act.notify_signers",
            target=act,
            payload={"to": [n.recipient.username for n in sent]},
        )
    return sent


def forward_incident(*, actor: User, incident: Incident, note: str = "") -> list[Notification]:
    """R9: the court administrator informs the staff of the regional judicial administration."""
    from taspa.courts.policy import Role
    from taspa.courts.selectors import has_role

    hearing = incident.hearing
    require_text(note, field="note", max_length=FORWARD_NOTE)
    if not has_role(actor, Role.COURT_ADMIN, hearing.case.court):
        raise Forbidden(
            _("Only the administrator of this court forwards its incidents (R9)."),
            code="not_court_admin",
        )
    recipients = regional_staff(hearing)
    if not recipients:
        raise InvalidInput(
            "no_regional_staff",
            _("Nobody holds the regional_staff role for the region %(region)s."),
            params={"region": f"{hearing.case.court.region!r}"},
        )
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update()
            .select_related("hearing__case__court")
            .get(pk=incident.pk)
        )
        if incident.forwarded_at is not None:
            raise Conflict("already_forwarded", _("This incident was already forwarded."))
        incident.forwarded_at, incident.forwarded_by = timezone.now(), actor
        incident.forward_note = note
        incident.save(update_fields=["forwarded_at", "forwarded_by", "forward_note"])
        sent = [
            _notify(person, "incident_forwarded", incident, sender=str(actor), note=note)
            for person in recipients
        ]
        record(
            actor=actor,
            action="incident.forward",
            target=incident,
            payload={"to": [person.username for person in recipients], "note": note},
        )
    return sent


def mark_read(*, actor: User, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise Forbidden(_("This notice is someone else's."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def deliver_email(notification_id: int) -> str:
    """Send one notice by e-mail (Django's e-mail framework); idempotent. A failure is kept on
    the notice and logged; the inbox copy is there regardless."""
    from django.core.mail import EmailMessage

    notification = Notification.objects.select_related("recipient").get(pk=notification_id)
    if notification.emailed_at is not None:
        return "already sent"
    address = notification.recipient.email
    if not address:
        Notification.objects.filter(pk=notification.pk).update(email_error="no e-mail address")
        return "no e-mail address"
    message = EmailMessage(notification.subject, notification.body, to=[address])
    try:
        message.send()
    except OSError as error:  # smtplib.SMTPException is an OSError
        log.warning("e-mail to %s failed: %s", address, error)
        Notification.objects.filter(pk=notification.pk).update(email_error=str(error)[:500])
        return f"failed: {error}"
    Notification.objects.filter(pk=notification.pk).update(
        emailed_at=timezone.now(), email_error=""
    )
    return f"sent to {address}"


# --- R3.4: the judge decides whether minutes are kept ---------------------------------------------


def decide_minutes(
    *, actor: User, hearing: Hearing, keep_minutes: bool, note: str = ""
) -> MinutesDecision:
    """R3.4: «…вопрос о ведении протокола судебного заседания разрешается судьей». Only the
    hearing's own judge decides, and only for a hearing the Rules leave to the judge; the
    decision then drives R17 (a hearing with minutes kept must be recorded)."""
    from taspa.limits import require_text

    if actor.pk != hearing.judge_id:
        raise Forbidden(
            _("Only the hearing's judge decides on the minutes (R3.4)."), code="not_the_judge"
        )
    if hearing.recording_required != "judge_decides":
        raise Conflict(
            "not_for_the_judge",
            _("The Rules decide this hearing's recording: the judge's decision is not asked."),
            technical=hearing.recording_rule,
        )
    require_text(note, field="note", max_length=2000)
    with transaction.atomic():
        decision = MinutesDecision.objects.create(
            hearing=hearing,
            keep_minutes=keep_minutes,
            note=note,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        record(
            actor=actor,
            action="hearing.minutes_decision",
            target=hearing,
            payload={"keep_minutes": keep_minutes, "note": note},
        )
    return decision
