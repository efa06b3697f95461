"""Every write of closed portions (R32 for part of a hearing): the one writer of ``ClosedPortion``.

The secretary marks live the court's announcement that the hearing continues in closed session
and that it reopens; after sealing, the judge's decision may close a part as well. A portion is
an audit event, a manifest entry of a recording sealed after it, and is corrected only by a new
portion that supersedes it (as marks are, R12). It changes who receives what (``access.policy``),
never the sealed recording (R19). Each write checks its rule (``access.policy.portion_refusal``)
under the hearing's row lock, so two overlapping portions cannot both be stored; a refusal is a
422 with the rule's code and stores nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from taspa.access.policy import PORTION_CLOCK_SLACK_S, PORTION_RULES, portion_refusal
from taspa.audit.actions import record
from taspa.courts.actions import require
from taspa.courts.models import Hearing, User
from taspa.courts.policy import Action
from taspa.errors import Forbidden, RuleRefusal
from taspa.recorder import selectors
from taspa.recorder.engine import EngineError
from taspa.recorder.models import ClosedPortion, Recording

Source = ClosedPortion.Source


def _refuse(code: str) -> RuleRefusal:
    return RuleRefusal(code, _(PORTION_RULES[code]))


def _offset(recording: Recording, at: datetime) -> float:
    """``at`` on the media timeline: the capturing engine's own mapping where this process runs
    it (as marks, R12), else wall time since the first sample (remote or stopped capture)."""
    from taspa.recorder import runtime  # the engine registry, only where capture runs

    engine = runtime.engine_for(recording.hearing_id)
    if engine is not None and recording.state == Recording.State.CAPTURING:
        try:
            return engine.media_offset(at)
        except EngineError:
            pass
    return (at - recording.started_at).total_seconds()


def _extent(recording: Recording) -> float | None:
    live = _offset(recording, timezone.now()) + PORTION_CLOCK_SLACK_S
    return selectors.recorded_extent(recording, live)


def _source(actor: User, hearing: Hearing, recording: Recording | None) -> str:
    """Live marking is the recorder's operator's (R7) or the judge's; after sealing, only the
    judge of the hearing decides (it changes access, never the sealed recording)."""
    judge = hearing.judge_id == actor.pk
    if recording is not None and recording.state == Recording.State.SEALED:
        if not judge:
            raise Forbidden(
                _("Only the judge of the hearing closes part of a sealed recording."),
                code="not_the_judge",
            )
        return Source.JUDGE_DECISION
    if not judge:
        require(actor, Action.OPERATE_RECORDER, hearing)
    return Source.LIVE


def _locked(hearing: Hearing) -> tuple[Hearing, Recording | None]:
    hearing = Hearing.objects.select_for_update().get(pk=hearing.pk)
    return hearing, Recording.objects.filter(hearing=hearing).first()


def _check(
    recording: Recording | None,
    start: float,
    end: float | None,
    *,
    besides: ClosedPortion | None = None,
) -> None:
    others = [
        (p.start_s, p.end_s)
        for p in selectors.current_portions(recording.hearing)
        if besides is None or p.pk != besides.pk
    ]
    code = portion_refusal(start, end, recorded_s=_extent(recording), others=others)
    if code is not None:
        raise _refuse(code)


def add_portion(
    *,
    actor: User,
    hearing: Hearing,
    start: datetime | None = None,
    end: datetime | None = None,
    reason: str = "",
) -> ClosedPortion:
    """Close ``[start, end)`` of the hearing (``start`` default now; no ``end``: still closed)."""
    with transaction.atomic():
        hearing, recording = _locked(hearing)
        source = _source(actor, hearing, recording)
        if hearing.closed:
            raise _refuse("closed_hearing_whole")
        if recording is None:
            raise _refuse("closed_portion_outside_recording")
        if source == Source.JUDGE_DECISION and not reason.strip():
            raise _refuse("closed_portion_decision_missing")
        start = start or timezone.now()
        start_s = _offset(recording, start)
        end_s = None if end is None else _offset(recording, end)
        _check(recording, start_s, end_s)
        portion = ClosedPortion.objects.create(
            hearing=hearing,
            recording=recording,
            start_at=start,
            end_at=end,
            start_s=start_s,
            end_s=end_s,
            source=source,
            reason=reason.strip(),
            created_by=actor,
            ended_by=actor if end is not None else None,
            ended_recorded_at=timezone.now() if end is not None else None,
        )
        record(
            actor=actor,
            action="recorder.closed_portion",
            target=hearing,
            payload=selectors.portion_answer(portion),
        )
    return portion


def end_portion(
    *, actor: User, portion: ClosedPortion, at: datetime | None = None
) -> ClosedPortion:
    """The court reopens the hearing at ``at`` (default now); a portion ends once."""
    with transaction.atomic():
        hearing, recording = _locked(portion.hearing)
        _source(actor, hearing, recording)
        portion = ClosedPortion.objects.select_for_update().get(pk=portion.pk)
        if ClosedPortion.objects.filter(supersedes=portion).exists():
            raise _refuse("closed_portion_superseded")
        at = at or timezone.now()
        end_s = _offset(recording, at)
        if portion.end_s is not None:
            raise _refuse("closed_portion_already_ended")
        _check(recording, portion.start_s, end_s, besides=portion)
        portion.end_at, portion.end_s = at, end_s
        portion.ended_by, portion.ended_recorded_at = actor, timezone.now()
        portion.save(update_fields=["end_at", "end_s", "ended_by", "ended_recorded_at"])
        record(
            actor=actor,
            action="recorder.closed_portion_end",
            target=hearing,
            payload=selectors.portion_answer(portion),
        )
    return portion


def correct_portion(
    *,
    actor: User,
    portion: ClosedPortion,
    start: datetime,
    end: datetime | None,
    reason: str = "",
) -> ClosedPortion:
    """A correction is a new portion that supersedes the old one; nothing is edited (as R12's
    marks). After sealing it is the judge's decision, and still only changes access."""
    with transaction.atomic():
        hearing, recording = _locked(portion.hearing)
        source = _source(actor, hearing, recording)
        portion = ClosedPortion.objects.select_for_update().get(pk=portion.pk)
        if ClosedPortion.objects.filter(supersedes=portion).exists():
            raise _refuse("closed_portion_superseded")
        reason = reason.strip() or portion.reason
        if source == Source.JUDGE_DECISION and not reason:
            raise _refuse("closed_portion_decision_missing")
        start_s = _offset(recording, start)
        end_s = None if end is None else _offset(recording, end)
        _check(recording, start_s, end_s, besides=portion)
        fixed = ClosedPortion.objects.create(
            hearing=hearing,
            recording=recording,
            start_at=start,
            end_at=end,
            start_s=start_s,
            end_s=end_s,
            source=source,
            reason=reason,
            created_by=actor,
            ended_by=actor if end is not None else None,
            ended_recorded_at=timezone.now() if end is not None else None,
            supersedes=portion,
        )
        record(
            actor=actor,
            action="recorder.closed_portion_correct",
            target=hearing,
            payload=selectors.portion_answer(fixed),
        )
    return fixed
