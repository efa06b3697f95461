"""The search across recordings (#16 point 3): by case number, a party's name, a mark's text and
a date range, over the recordings the user may see (staff by court or region, a party their own
hearings); bad input is told next to the field, never a 500."""

from datetime import timedelta
from importlib import import_module

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from taspa.courts.models import Hearing, HearingParticipant
from taspa.recorder.models import Mark, Recording
from taspa.recorder.search import RecordingQuery, search_recordings

pytestmark = pytest.mark.django_db


def sealed(world, court: str, participant: str, mark: str, days_ago: int) -> Recording:
    hearing = world.hearing(court=court)
    HearingParticipant.objects.filter(hearing=hearing).update(name=participant)
    Hearing.objects.filter(pk=hearing.pk).update(state="sealed")
    started = timezone.now() - timedelta(days=days_ago)
    recording = Recording.objects.create(
        hearing=hearing,
        state=Recording.State.SEALED,
        spool_dir="-",
        started_at=started,
        stopped_at=started + timedelta(minutes=90),
        duration_s=5400.0,
        file_name=f"{hearing.pk}.ts",
    )
    Mark.objects.create(
        recording=recording,
        speaker=mark,
        role="judge",
        offset_s=12.0,
        at=started,
        created_by=hearing.secretary,
    )
    return recording


@pytest.fixture
def recordings(world):
    return {
        "a-old": sealed(world, "a", "Бекзат Серікұлы", "Expert Karimov", 40),
        "a-new": sealed(world, "a", "Dana Aliyeva", "Witness Omarov", 2),
        "b": sealed(world, "b", "Dana Aliyeva", "Witness Omarov", 1),
        "z": sealed(world, "z", "Dana Aliyeva", "Witness Omarov", 1),
    }


def ids(user, **query) -> set[int]:
    return {r.pk for r in search_recordings(user, RecordingQuery(**query)).recordings}


@pytest.mark.parametrize("probe", [3000, 0], ids=["rare-word-ids", "common-word-walk"])
def test_r23_search_finds_by_case_party_mark_and_date_within_what_the_user_sees(
    world, recordings, probe, monkeypatch
):
    monkeypatch.setattr("taspa.recorder.search.PROBE", probe)
    a_old, a_new, b, z = (recordings[k] for k in ("a-old", "a-new", "b", "z"))
    secretary = world.person("secretary", "a")
    assert ids(secretary, party="Dana") == {a_new.pk}  # court A only
    assert ids(world.person("regional_staff", "r"), party="dana") == {a_new.pk, b.pk}  # region
    assert ids(world.admin, party="Dana") == {a_new.pk, b.pk, z.pk}
    assert ids(secretary, case_number=a_old.hearing.case.number) == {a_old.pk}
    assert ids(secretary, mark_text="karim") == {a_old.pk}
    assert ids(secretary, party="Бекзат") == {a_old.pk}
    today = timezone.localdate()
    assert ids(secretary, date_from=today - timedelta(days=5)) == {a_new.pk}
    assert ids(secretary, date_to=today - timedelta(days=30)) == {a_old.pk}
    # a corrected mark is found by its correction only
    old = Mark.objects.get(recording=a_old)
    Mark.objects.create(
        recording=a_old,
        speaker="Expert Nurlanov",
        role="expert",
        offset_s=old.offset_s,
        at=old.at,
        created_by=old.created_by,
        supersedes=old,
    )
    assert ids(secretary, mark_text="karimov") == set()
    assert ids(secretary, mark_text="nurlan") == {a_old.pk}


def test_r28_a_party_finds_only_the_recordings_of_their_own_hearings(world, recordings):
    party = world.person("participant", "a")
    assert ids(party, party="Dana") == set()
    HearingParticipant.objects.filter(hearing=recordings["b"].hearing).update(user=party)
    assert ids(party, party="Dana") == {recordings["b"].pk}


def test_search_page_lists_results_and_tells_bad_input_next_to_the_field(world, recordings):
    client = Client()
    assert client.login(username="secretary-a", password="pw")
    page = client.get("/recordings/search", {"party": "Dana"}).content.decode()
    assert recordings["a-new"].hearing.case.number in page and "01:30:00" in page
    assert f"/recordings/{recordings['a-new'].pk}" in page
    assert recordings["b"].hearing.case.number not in page
    for bad in (
        {"party": "ab"},
        {"case_number": "x" * 65},
        {"mark_text": "abc\x00"},
        {"date_from": "1900-01-01"},
        {"date_from": "2026-13-40"},
        {"date_from": "2026-02-01", "date_to": "2026-01-01"},
    ):
        answer = client.get("/recordings/search", bad)
        assert answer.status_code == 200, bad
        assert 'class="errorlist"' in answer.content.decode(), bad
    assert Client().get("/recordings/search").status_code == 302


def test_r23_a_regions_recordings_come_newest_first_across_its_courts_page_by_page(
    world, recordings, monkeypatch
):
    """Visibility is read from the recording's own court (``Recording.court``): the pages of a
    regional head run newest first across the courts, none twice, none left out."""
    monkeypatch.setattr("taspa.recorder.search.PAGE", 1)
    a_old, a_new, b = (recordings[k] for k in ("a-old", "a-new", "b"))
    assert a_old.court_id == a_old.hearing.case.court_id  # set by save, from the hearing
    assert b.court_id == b.hearing.case.court_id != a_old.court_id
    regional = world.person("regional_staff", "r")
    since = RecordingQuery(date_from=timezone.localdate() - timedelta(days=100))
    pages = [search_recordings(regional, since, page=n) for n in (1, 2, 3, 4)]
    assert [[r.pk for r in p.recordings] for p in pages] == [[b.pk], [a_new.pk], [a_old.pk], []]
    assert [p.more for p in pages] == [True, True, False, False]


def test_r23_the_migration_backfills_each_recordings_court_from_its_hearing(world, recordings):
    backfill = import_module("taspa.recorder.migrations.0012_recording_court").BACKFILL
    a_old, b = recordings["a-old"], recordings["b"]
    Recording.objects.filter(pk=a_old.pk).update(court_id=b.court_id)  # wrong on purpose
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    assert Recording.objects.get(pk=a_old.pk).court_id == a_old.hearing.case.court_id
    assert Recording.objects.get(pk=b.pk).court_id == b.hearing.case.court_id
