"""Search across the sealed recordings a user may see (#16 point 3): by case number, a party's
name, the text of a mark, and the date the recording started.

Visibility is the rest of Taspa's: court staff and regional staff see their courts' recordings
(``courts.selectors.visible_courts``, as playback does); a party sees the recordings of their
own hearings (``courts.selectors.party_hearings``, as the portal does) and reaches them by
petition. Each filter is a condition on the recording row (``EXISTS`` for participants and
marks, never a join to a to-many table), so no recording comes twice and the newest-first order
walks ``recording_sealed_started``; PostgreSQL answers the text filters from trigram indexes
(migrations ``courts.0004`` and ``recorder.0011``; bench/search.py measures it at 1M).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from taspa.courts.models import Hearing, HearingParticipant, User
from taspa.courts.policy import PARTY_ROLES
from taspa.courts.selectors import assignments_of, party_hearings, visible_courts
from taspa.recorder.models import Mark, Recording

PAGE = 50
MIN_TEXT = 3  # shorter text matches too much to be a search (and no trigram index serves it)


@dataclass(frozen=True)
class RecordingQuery:
    case_number: str = ""
    party: str = ""
    mark_text: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def empty(self) -> bool:
        texts = (self.case_number, self.party, self.mark_text)
        return not any(texts) and self.date_from is None and self.date_to is None


@dataclass(frozen=True)
class SearchPage:
    recordings: list[Recording]
    more: bool  # there are more than one page of them


def visible_recordings(user: User) -> QuerySet[Recording]:
    """The sealed recordings ``user`` may see: by court or region as staff, their own as a
    party."""
    scope = Q(hearing__case__court__in=visible_courts(user))
    if any(a.role in PARTY_ROLES for a in assignments_of(user)):
        scope |= Q(hearing__in=Hearing.objects.filter(party_hearings(user)).values("pk"))
    return Recording.objects.filter(scope, state=Recording.State.SEALED)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def search_recordings(user: User, query: RecordingQuery, page: int = 1) -> SearchPage:
    """One page of the matching recordings, newest first."""
    found = visible_recordings(user)
    if query.case_number:
        found = found.filter(hearing__case__number__icontains=query.case_number)
    if query.party:
        named = HearingParticipant.objects.filter(
            hearing_id=OuterRef("hearing_id"), name__icontains=query.party
        )
        found = found.filter(Exists(named))
    if query.mark_text:
        marks = Mark.objects.filter(
            recording_id=OuterRef("pk"),
            speaker__icontains=query.mark_text,
            superseded_by__isnull=True,
        )
        found = found.filter(Exists(marks))
    if query.date_from is not None:
        found = found.filter(started_at__gte=_day_start(query.date_from))
    if query.date_to is not None:
        found = found.filter(started_at__lt=_day_start(query.date_to + timedelta(days=1)))
    start = (max(1, page) - 1) * PAGE
    rows = list(
        found.select_related("hearing__case__court", "hearing__courtroom")
        .prefetch_related("hearing__participants")
        .order_by("-started_at", "-id")[start : start + PAGE + 1]
    )
    return SearchPage(recordings=rows[:PAGE], more=len(rows) > PAGE)
