"""Search across the sealed recordings a user may see (#16 point 3): by case number, a party's
name, the text of a mark, and the date the recording started.

Visibility is the rest of Taspa's: court staff and regional staff see their courts' recordings
(``courts.selectors.visible_courts``, as playback does); a party sees the recordings of their
own hearings (``courts.selectors.party_hearings``, as the portal does) and reaches them by
petition. Each filter is a condition on the recording row (``EXISTS`` for participants and
marks, never a join to a to-many table), so no recording comes twice and the newest-first order
walks ``recording_sealed_court`` (newest first, each recording's court in the index: no join
to find it) or, for one court, ``recording_court_started``; PostgreSQL answers the text filters
from trigram indexes (migrations ``courts.0004``, ``recorder.0011`` and ``0012``; bench/search.py
measures it at 1M).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, When
from django.utils import timezone

from taspa.courts.models import Court, Hearing, HearingParticipant, User
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


@dataclass(frozen=True)
class _Scope:
    courts: list[int] | None  # the ids of the courts seen as staff; None: every court
    party: Q | None  # a party's own hearings, or None


def _scope(user: User) -> _Scope:
    """Who sees what, resolved once: the visible courts as a list of ids (tested on
    ``Recording.court``, the recording's own row) and a party's hearings."""
    courts = list(visible_courts(user).values_list("pk", flat=True))
    every = len(courts) == Court.objects.count()  # a system administrator: no court test
    party = None
    if any(a.role in PARTY_ROLES for a in assignments_of(user)):
        party = Q(hearing__in=Hearing.objects.filter(party_hearings(user)).values("pk"))
    return _Scope(courts=None if every else courts, party=party)


def visible_recordings(user: User) -> QuerySet[Recording]:
    """The sealed recordings ``user`` may see: by court or region as staff, their own as a
    party."""
    return _scoped(Recording.objects.filter(state=Recording.State.SEALED), _scope(user))


def _scoped(found: QuerySet[Recording], scope: _Scope) -> QuerySet[Recording]:
    if scope.courts is None:
        return found
    where = Q(court_id__in=scope.courts)
    if scope.party is not None:
        where |= scope.party
    return found.filter(where)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _text_filter(found: QuerySet[Recording], rows: QuerySet, column: str, inner: Exists):
    """Filter ``found`` by a text condition on a to-many table, the way that is fast for it.

    A rare word (at most PROBE rows match, found through the trigram index): the matching ids,
    as an ``IN`` list — the page is sorted from a few thousand rows at most. A common word: an
    ``EXISTS`` per recording, which PostgreSQL runs as a walk of the recordings newest first
    (the page is full after a few thousand) or as a semi-join, as its statistics say.
    """
    ids = list(rows.order_by().values_list(column, flat=True)[: PROBE + 1])  # any PROBE + 1
    if len(ids) <= PROBE:
        return found.filter(**{f"{_TARGET[column]}__in": set(ids)})
    # Inside a CASE the EXISTS stays a test of each recording as the walk reads it: left bare,
    # PostgreSQL may turn it into a semi-join that reads every match of the word first.
    return found.filter(Case(When(inner, then=True), default=False, output_field=BooleanField()))


_TARGET = {"recording_id": "pk", "hearing_id": "hearing_id"}
PROBE = 3000


def search_recordings(user: User, query: RecordingQuery, page: int = 1) -> SearchPage:
    """One page of the matching recordings, newest first."""
    scope = _scope(user)
    found = Recording.objects.filter(state=Recording.State.SEALED)
    if query.case_number:
        found = found.filter(hearing__case__number__icontains=query.case_number)
    if query.party:
        named = HearingParticipant.objects.filter(name__icontains=query.party)
        inner = Exists(named.filter(hearing_id=OuterRef("hearing_id")))
        found = _text_filter(found, named, "hearing_id", inner)
    if query.mark_text:
        # The marks as they stand: one a correction superseded does not count (NOT EXISTS on
        # the unique index of ``supersedes``, not an outer join of every mark).
        corrected = Mark.objects.filter(supersedes=OuterRef("pk"))
        marks = Mark.objects.filter(speaker__icontains=query.mark_text).filter(~Exists(corrected))
        inner = Exists(marks.filter(recording_id=OuterRef("pk")))
        found = _text_filter(found, marks, "recording_id", inner)
    if query.date_from is not None:
        found = found.filter(started_at__gte=_day_start(query.date_from))
    if query.date_to is not None:
        found = found.filter(started_at__lt=_day_start(query.date_to + timedelta(days=1)))
    start = (max(1, page) - 1) * PAGE
    # The ids first (only the joins the filters need), then the page's rows with what it shows.
    # A court's staff walk ``recording_court_started``; several courts walk the recordings
    # newest first on ``recording_sealed_court``, the court read from the index, not the row.
    ordered = _scoped(found, scope).order_by("-started_at", "-id")
    ids = list(ordered.values_list("pk", flat=True)[start : start + PAGE + 1])
    rows = (
        Recording.objects.filter(pk__in=ids[:PAGE])
        .select_related("hearing__case__court", "hearing__courtroom")
        .prefetch_related("hearing__participants")
        .order_by("-started_at", "-id")
    )
    return SearchPage(recordings=list(rows), more=len(ids) > PAGE)
