"""Every write about case-file media: writing one (R12, R33), handing it to the archive and
accepting it there (R21, R22), visual checks after reviews (R29), and destruction (R25, R26).
Each checks who may do it, writes, and appends its audit event in one transaction."""

from __future__ import annotations

import hashlib
import logging
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from taspa.audit.actions import record
from taspa.courts.models import Case, Court, User
from taspa.courts.policy import Role
from taspa.courts.selectors import has_role, may_operate_recorder
from taspa.custody import medium as io
from taspa.custody.models import (
    CaseAcceptance,
    DestructionAct,
    DestructionSignature,
    Handover,
    InventoryEntry,
    Medium,
    VisualCheck,
)
from taspa.custody.policy import (
    DESTRUCTION_SIGNERS,
    HELD_STATES,
    MediumKind,
    MediumState,
    bag_name,
    destruction_complete,
    missing_media,
)
from taspa.errors import Conflict, DomainError, Forbidden, InvalidInput, RuleRefusal
from taspa.limits import REVIEW, VISUAL_CHECK_NOTE, require_text
from taspa.recorder.models import Recording
from taspa.recorder.selectors import session_secretary
from taspa.sealing.reading import SealedBytesRefused, require_servable, write_sealed

log = logging.getLogger("taspa.custody")


# The handover refused: shown as it is to the person (the page translates it, R21).
NOT_WITH_SECRETARY = gettext_noop("The medium is no longer with the secretary.")


def _refused(actor: User | None, action: str, target: Any, error: DomainError) -> DomainError:
    """Keep a refused custody step on record (its own transaction), then hand the error back."""
    record(
        actor=actor,
        action=action,
        target=target,
        payload={"error": error.code, "detail": error.detail},
    )
    return error


def _require_writer(actor: User, recording: Recording) -> None:
    hearing = recording.hearing
    court = hearing.case.court
    if not (may_operate_recorder(actor, hearing) or has_role(actor, Role.COURT_ADMIN, court)):
        raise Forbidden(
            _("The hearing's secretary (or the court administrator) writes its medium.")
        )


def medium_filesystem() -> str:
    return getattr(settings, "TASPA_MEDIUM_FILESYSTEM", "exfat")


def write_medium(
    *,
    actor: User,
    recording: Recording,
    mount: Path | str,
    device: str | None = None,
    confirmation: str = "",
    kind: str = MediumKind.USB,
) -> Medium:
    """R12, R33: empty the medium at ``mount`` (or format ``device`` once ``confirmation`` names
    it, its size and its label — ``medium.describe_device(device).confirmation``), write
    the recording, its signature, the manifest and its signature, and an offline page that plays
    the recording with its marks as a BagIt bag, read it back, and list it in the case inventory
    after the brief protocol. The secretary holds it from now on (R21)."""
    _require_writer(actor, recording)
    if recording.state != Recording.State.SEALED:
        raise Conflict("not_sealed", _("Only a sealed recording goes into the case file (R14)."))
    if kind not in MediumKind.__members__.values():
        raise InvalidInput("unknown_medium_kind", _("A medium is 'usb' or 'disc'."))
    if Medium.objects.filter(recording=recording, state__in=HELD_STATES).exists():
        raise Conflict(
            "medium_already_written", gettext_noop("The case file already has this recording.")
        )
    sealed = require_servable(recording)  # 409 fixity_failed: a damaged original is not copied
    mount = Path(mount)
    try:
        # The media twice (the original and the playable copy) and room for the small files.
        formatted = _prepare(
            actor, recording, mount, device, confirmation, needed=2 * sealed.bytes + (1 << 20)
        )
    except DomainError as error:
        raise _refused(actor, "medium.write_refused", recording, error) from None
    medium = _start(actor, recording, mount, device, kind, formatted)
    try:
        written = io.build_bag(
            mount,
            bag_name(recording.file_name),
            # Straight from the store onto the medium, each file hashed as it is written and
            # compared with its sealed digest; a mismatch leaves no bag (R19, R20).
            copy_in=lambda staging: write_sealed(recording, staging),
            extra={},
            render=lambda staging: _render_page(recording, staging),
            bag_info=_bag_info(recording),
        )
    except (io.MediumError, SealedBytesRefused) as error:
        _fail(actor, medium, error)
        raise
    return _finish(actor, medium, written)


def medium_roots() -> list[str]:
    """Where removable media are mounted; only there may Taspa wipe (R33)."""
    return list(getattr(settings, "TASPA_MEDIUM_ROOTS", ["/media", "/run/media", "/mnt"]))


def _prepare(
    actor: User,
    recording: Recording,
    mount: Path,
    device: str | None,
    confirmation: str,
    *,
    needed: int,
) -> dict[str, Any]:
    io.require_medium_path(
        mount,
        roots=medium_roots(),
        # A formatted device is mounted by us; otherwise the medium must be mounted already.
        mount_point=not device and getattr(settings, "TASPA_MEDIUM_REQUIRE_MOUNT_POINT", True),
        home=Path(settings.TASPA_HOME),
    )
    formatted: dict[str, Any] = {}
    if device:
        done = io.format_device(device, mount, medium_filesystem(), confirmation)
        formatted = done.as_dict() | {"at": timezone.now().isoformat()}
        # R33: on record at once, whatever happens to the write that follows.
        record(actor=actor, action="medium.format", target=recording, payload=formatted)
    io.probe_writable(mount)
    io.wipe(mount)
    io.require_space(mount, needed)
    return formatted


def _start(
    actor: User,
    recording: Recording,
    mount: Path,
    device: str | None,
    kind: str,
    formatted: dict[str, Any],
) -> Medium:
    with transaction.atomic():
        medium = Medium.objects.create(
            recording=recording,
            case=recording.hearing.case,
            kind=kind,
            mount_path=str(mount),
            device=device or "",
            formatted=formatted,
            written_by=actor,
            started_at=timezone.now(),
        )
        record(
            actor=actor,
            action="medium.write_start",
            target=medium,
            payload={"recording": recording.pk, "mount": str(mount), "device": device or ""},
        )
    return medium


def _fail(actor: User, medium: Medium, error: DomainError) -> None:
    with transaction.atomic():
        Medium.objects.filter(pk=medium.pk).update(
            state=MediumState.FAILED, valid=False, failure=f"{error.code}: {error.detail}"
        )
        record(
            actor=actor,
            action="medium.write_failed",
            target=medium,
            payload={"error": error.code, "detail": error.detail},
        )


def _render_page(recording: Recording, staging: Path) -> None:
    """The playable copy and the offline page (index.html) with the marks."""
    from django.template.loader import render_to_string

    from taspa.custody.selectors import player_context

    player = io.player_copy(staging / recording.file_name, staging)  # the checked copy
    html = render_to_string("custody/player.html", player_context(recording, player))
    (staging / "index.html").write_text(html, encoding="utf-8")


def _bag_info(recording: Recording) -> dict[str, str]:
    hearing = recording.hearing
    return {
        "Source-Organization": hearing.case.court.name,
        "External-Identifier": recording.file_name,
        "External-Description": "Case-file copy of a court hearing's recording (R12); "
        "open data/index.html to play it with its speaker marks.",
        "Taspa-Case-Number": hearing.case.number,
        "Taspa-Hearing-Date": timezone.localtime(hearing.scheduled_at).date().isoformat(),
        "Taspa-Recording-SHA256": recording.sha256,
        "Taspa-Signer": recording.signer_subject,
    }


def _finish(actor: User, medium: Medium, written: io.WrittenBag) -> Medium:
    recording = medium.recording
    if written.sha256.get(recording.file_name) != recording.sha256:
        error = io.MediumError("medium_write_failed", _("The media file on the medium differs."))
        _fail(actor, medium, error)
        raise error
    holder = session_secretary(recording)  # R21: the secretary who recorded it, a stand-in too
    now = timezone.now()
    with transaction.atomic():
        medium.state, medium.valid = MediumState.WITH_SECRETARY, True
        medium.bag_name, medium.payload_oxum = written.path.name, written.payload_oxum
        medium.files, medium.written_at = written.sha256, now
        medium.holder, medium.holder_since = holder, now  # R21
        medium.save()
        entry = _inventory_entry(actor, medium)
        record(
            actor=actor,
            action="medium.write",
            target=medium,
            payload={
                "recording": recording.pk,
                "bag": medium.bag_name,
                "payload_oxum": medium.payload_oxum,
                "files": medium.files,
                "formatted": medium.formatted,
                "holder": holder.username,
                "inventory": entry.number,
            },
        )
    return medium


def _inventory_entry(actor: User, medium: Medium) -> InventoryEntry:
    """R12: the medium is listed in the case inventory right after the brief protocol."""
    from taspa.custody.selectors import inventory_texts

    case = medium.case
    last = InventoryEntry.objects.filter(case=case).aggregate(last=Max("number"))["last"] or 0
    texts = inventory_texts(medium)
    return InventoryEntry.objects.create(
        case=case,
        medium=medium,
        number=last + 1,
        after_document=texts["after_ru"],
        title_kk=texts["title_kk"],
        title_ru=texts["title_ru"],
        created_at=timezone.now(),
        created_by=actor,
    )


# --- custody (R21, R22) --------------------------------------------------------------------------


def hand_over(*, actor: User, medium: Medium, to: User) -> Handover:
    """R21: the secretary hands the medium to the archivist with the case; only an archivist of
    the case's court may receive it."""
    court = medium.case.court
    if actor.pk != medium.holder_id and not has_role(actor, Role.COURT_ADMIN, court):
        raise Forbidden(_("Only the medium's holder hands it over (R21)."), code="not_the_holder")
    if medium.state != MediumState.WITH_SECRETARY:
        raise Conflict("medium_not_with_secretary", NOT_WITH_SECRETARY)
    if not has_role(to, Role.ARCHIVIST, court):
        raise _refused(
            actor,
            "medium.handover_refused",
            medium,
            RuleRefusal(
                "not_an_archivist",
                _("%(to)s is not an archivist of %(court_code)s (R21)."),
                params={"to": to, "court_code": court.code},
            ),
        )
    with transaction.atomic():
        medium = Medium.objects.select_for_update().get(pk=medium.pk)
        if medium.state != MediumState.WITH_SECRETARY:
            raise Conflict("medium_not_with_secretary", NOT_WITH_SECRETARY)
        handover = Handover.objects.create(
            medium=medium, from_user=medium.holder, to_user=to, handed_at=timezone.now()
        )
        medium.state = MediumState.HANDED_OVER
        medium.save(update_fields=["state"])
        record(
            actor=actor,
            action="medium.handover",
            target=medium,
            payload={"from": medium.holder.username, "to": to.username},
        )
    return handover


def accept_medium(*, actor: User, medium: Medium, mount: Path | str) -> Handover:
    """R22: the archivist accepts the medium only if it is there (mounted at ``mount``) and its
    bag validates against the digests recorded when it was written."""
    handover = medium.handovers.filter(accepted_at__isnull=True).order_by("-handed_at").first()
    if medium.state != MediumState.HANDED_OVER or handover is None:
        raise Conflict("no_pending_handover", _("Nobody has handed this medium over."))
    if handover.to_user_id != actor.pk:
        raise Forbidden(_("The medium was handed to someone else."), code="not_the_recipient")
    check = io.check_bag(Path(mount) / medium.bag_name)
    problems = _acceptance_problems(medium, check)
    result = {"mount": str(mount), "present": check.present, "valid": not problems,
              "detail": "; ".join(problems) or check.detail}  # fmt: skip
    if problems:
        with transaction.atomic():
            Handover.objects.filter(pk=handover.pk).update(acceptance_check=result)
        raise _refused(
            actor,
            "medium.accept_refused",
            medium,
            RuleRefusal(
                "medium_check_failed",
                _("The copy %(bag)s is not there on the medium (R22).")
                if not check.present
                else _("The copy on the medium does not validate against its digests (R22).")
                if not check.valid
                else _("The files on the medium differ from those written on it (R22)."),
                {"bag": medium.bag_name},
                technical=result["detail"],
            ),
        )
    now = timezone.now()
    with transaction.atomic():
        handover.accepted_at, handover.acceptance_check = now, result
        handover.save(update_fields=["accepted_at", "acceptance_check"])
        Medium.objects.filter(pk=medium.pk).update(
            state=MediumState.IN_ARCHIVE, holder=actor, holder_since=now
        )
        record(actor=actor, action="medium.accept", target=medium, payload=result)
    return handover


def _acceptance_problems(medium: Medium, check: io.BagCheck) -> list[str]:
    if not check.present:
        return [f"the medium's bag {medium.bag_name} is not there (R22)"]
    if not check.valid:
        return [check.detail]
    problems = []
    if check.payload_oxum != medium.payload_oxum:
        problems.append(f"payload {check.payload_oxum} differs from {medium.payload_oxum} written")
    if check.sha256 != medium.files:
        problems.append("the files differ from those written on the medium")
    return problems


def accept_case(*, actor: User, case: Case) -> CaseAcceptance:
    """R22: «При принятии дела архивариус проверяет наличие копии аудио-, видеозаписи … на
    материальном (электронном) носителе, приобщенном к материалам дела». The archivist accepts
    the case; every sealed recording of its hearings whose medium did not come with it is kept
    on the acceptance, flagged (the case's inventory shows it until a later acceptance finds
    every medium)."""
    court = case.court
    if not has_role(actor, Role.ARCHIVIST, court):
        raise Forbidden(_("The court's archivist accepts cases into the archive (R21, R22)."))
    rows, keeper = [], {}
    for recording in (
        Recording.objects.filter(hearing__case=case, state=Recording.State.SEALED)
        .select_related("hearing__secretary")
        .order_by("started_at", "id")
    ):
        media = list(Medium.objects.filter(recording=recording).order_by("-id"))
        best = next((m for m in media if m.state in HELD_STATES), media[0] if media else None)
        rows.append((recording.pk, recording.file_name, best.state if best else None))
        # R21: who had it: the medium's last holder, its writer, else the hearing's secretary
        keeper[recording.pk] = (
            (best.holder or best.written_by) if best else recording.hearing.secretary
        )
    missing = missing_media(rows)
    present = [
        {"recording": pk, "file": name, "state": state}
        for pk, name, state in rows
        if pk not in {m["recording"] for m in missing}
    ]
    with transaction.atomic():
        acceptance = CaseAcceptance.objects.create(
            case=case,
            accepted_by=actor,
            accepted_at=timezone.now(),
            missing=missing,
            present=present,
        )
        record(
            actor=actor,
            action="case.archive_accept",
            target=case,
            payload={"missing": missing, "present": present},
        )
        if missing:
            from taspa.incidents.actions import notify_media_missing

            log.warning("case %s came to the archive without %d media", case.number, len(missing))
            notify_media_missing(
                case=case,
                files=[str(m["file"]) for m in missing],
                secretaries=[keeper[m["recording"]] for m in missing if keeper[m["recording"]]],
                archivist=actor,
            )
    return acceptance


def record_visual_check(
    *, actor: User, medium: Medium, intact: bool, note: str = "", review: str = ""
) -> VisualCheck:
    """R29: after a participant reviewed the recording, staff record that they looked the
    medium over and whether it is intact."""
    court = medium.case.court
    staff = (Role.SECRETARY, Role.ARCHIVIST, Role.COURT_ADMIN, Role.JUDGE)
    if not any(has_role(actor, role, court) for role in staff):
        raise Forbidden(_("Court staff check media (R29)."))
    if medium.state not in HELD_STATES:
        raise Conflict(
            "medium_not_held",
            _("The medium is not in custody now."),
            technical=medium.state,
        )
    if not intact and not note.strip():
        raise InvalidInput("damage_note_required", _("Describe what is wrong with the medium."))
    require_text(note, field="note", max_length=VISUAL_CHECK_NOTE)
    require_text(review, field="review", max_length=REVIEW)
    with transaction.atomic():
        check = VisualCheck.objects.create(
            medium=medium,
            checked_by=actor,
            checked_at=timezone.now(),
            intact=intact,
            note=note,
            review=review,
        )
        record(
            actor=actor,
            action="medium.visual_check",
            target=medium,
            payload={"intact": intact, "note": note, "review": review},
        )
    return check


# --- destruction (R25, R26) ----------------------------------------------------------------------


def draw_up_destruction_act(
    *, actor: User, court: Court, media: list[Medium], on: date | None = None
) -> DestructionAct:
    """R26: list media whose retention period (R25) is over in a destruction act (two PDFs,
    Kazakh then Russian). Nothing is destroyed yet: the act waits for the signatures the archive
    rules require (``sign_destruction_act``)."""
    from taspa.custody.selectors import destruction_context, retention_until_of
    from taspa.documents.render import issue_bilingual

    if not (has_role(actor, Role.ARCHIVIST, court) or has_role(actor, Role.COURT_ADMIN, court)):
        raise Forbidden(_("The court's archivist or administrator draws up destruction acts."))
    on = on or timezone.localdate()
    if not media:
        raise InvalidInput("no_media", _("Name the media to destroy."))
    for medium in media:
        until = retention_until_of(medium)
        if medium.case.court_id != court.pk or medium.state not in HELD_STATES:
            raise InvalidInput(
                "medium_not_destroyable",
                _("M-%(medium)s is not held by %(court_code)s."),
                params={"medium": medium.pk, "court_code": court.code},
            )
        if medium.destruction_act_id is not None:
            raise InvalidInput(
                "medium_not_destroyable",
                _("M-%(medium)s is already in a destruction act."),
                params={"medium": medium.pk},
            )
        if until is None or until >= on:
            raise RuleRefusal(
                "retention_not_over",
                _("M-%(medium)s is kept until %(until)s (R25).")
                if until
                else _("M-%(medium)s is kept until the judgment takes effect (R25)."),
                params={"medium": medium.pk, "until": until},
            )
    with transaction.atomic():
        Court.objects.select_for_update().filter(pk=court.pk).first()
        last = DestructionAct.objects.filter(court=court, year=on.year).aggregate(n=Max("number"))
        act = DestructionAct(
            court=court,
            year=on.year,
            number=(last["n"] or 0) + 1,
            date=on,
            created_by=actor,
            created_at=timezone.now(),
            required_roles=list(DESTRUCTION_SIGNERS),
        )
        kk, ru = issue_bilingual("custody/destruction_act.html", destruction_context(act, media))
        act.pdf_kk, act.pdf_ru = kk.pdf, ru.pdf
        act.save()
        listed = Medium.objects.filter(pk__in=[m.pk for m in media], destruction_act__isnull=True)
        if listed.update(destruction_act=act) != len(media):  # listed concurrently elsewhere
            raise Conflict("medium_already_listed", _("A medium is already in a destruction act."))
        record(
            actor=actor,
            action="medium.destruction_act",
            target=act,
            payload={
                "number": f"{act.number}/{act.year}",
                "media": [m.pk for m in media],
                "required": act.required_roles,
            },
        )
    return act


def sign_destruction_act(*, actor: User, act: DestructionAct) -> DestructionAct:
    """R26: ``actor`` signs both language versions of the act with their own EDS key, in the
    first required role they hold in the act's court that nobody has signed yet. With the last
    signature the listed media are recorded destroyed (state, time, no holder any more)."""
    from taspa.documents.pades import sign_pdf
    from taspa.sealing.actions import signer_for

    court = act.court
    mine = [role for role in act.required_roles if has_role(actor, role, court)]
    if not mine:
        raise Forbidden(
            _("You are not among the signers this act requires (R26)."),
            code="not_a_required_signer",
        )
    with transaction.atomic():
        act = DestructionAct.objects.select_for_update().get(pk=act.pk)
        signed = {s.role: s for s in act.signatures.all()}
        if act.status == "complete" or any(s.user_id == actor.pk for s in signed.values()):
            raise Conflict("already_signed", _("You have already signed this act."))
        open_roles = [role for role in mine if role not in signed]
        if not open_roles:
            raise Conflict(
                "already_signed",
                _("The act already bears the signature of your role."),
            )
        role = open_roles[0]
        signer = signer_for(actor)  # 422 when the key is missing or expired
        reason = f"R26 destruction act {act.number}/{act.year}: {role}"
        act.pdf_kk = sign_pdf(act.pdf("kk"), signer, field_name=role, reason=reason)
        act.pdf_ru = sign_pdf(act.pdf("ru"), signer, field_name=role, reason=reason)
        now = timezone.now()
        signature = DestructionSignature.objects.create(
            act=act,
            role=role,
            user=actor,
            signed_at=now,
            subject=signer.certificate.subject.rfc4514_string(),
            sha256_kk=hashlib.sha256(act.pdf_kk).hexdigest(),
            sha256_ru=hashlib.sha256(act.pdf_ru).hexdigest(),
        )
        done = destruction_complete(act.required_roles, {*signed, role})
        if done:
            act.status, act.completed_at = "complete", now
        act.save()
        record(
            actor=actor,
            action="medium.destruction_sign",
            target=act,
            payload={"role": role, "subject": signature.subject, "complete": done},
        )
        if done:
            media = list(act.media.values_list("pk", flat=True))
            act.media.filter(state__in=HELD_STATES).update(
                state=MediumState.DESTROYED, destroyed_at=now, holder=None
            )
            record(
                actor=actor,
                action="medium.destroy",
                target=act,
                payload={"number": f"{act.number}/{act.year}", "media": media},
            )
    return act


# --- retention periods (R25) ---------------------------------------------------------------------


def save_retention_period(*, actor: User, period: Any) -> Any:
    """R25: a system administrator enters a case kind's period from the official list of court
    documents (its source, and whether it is still an assumption), from Django's admin."""
    from taspa.courts.actions import require
    from taspa.courts.policy import Action

    require(actor, Action.MANAGE_COURTS)
    if period.years < 1:
        raise InvalidInput("retention_years_too_short", _("A medium is kept at least one year."))
    if not period.source.strip():
        raise InvalidInput("retention_source_required", _("Say where the period comes from."))
    with transaction.atomic():
        period.updated_at, period.updated_by = timezone.now(), actor
        period.save()
        record(
            actor=actor,
            action="custody.retention_period",
            target=period,
            payload={"case_kind": period.case_kind, "years": period.years,
                     "source": period.source, "assumption": period.assumption},
        )  # fmt: skip
    return period
