"""The judge's decisions in the browser (issue 16 point 1), through the actions the API calls:
the decision whether minutes are kept (R3.4) beside what the minutes state about a hearing that
could not be recorded (R9), and parts of a sealed recording closed by the judge's decision (R32
for part of a hearing), added, ended and corrected as hh:mm:ss offsets. Every refusal is told
next to its field in the reader's language and stores nothing; other staff see the decisions,
not the forms; participants see none of it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from taspa.audit.models import AuditEvent
from taspa.courts.models import Hearing, User
from taspa.incidents.actions import open_incident
from taspa.incidents.models import MinutesDecision
from taspa.recorder.models import ClosedPortion, Recording
from taspa.web.judge_forms import offset_text, parse_offset

pytestmark = pytest.mark.django_db


def browser(user: User, language: str = "kk") -> Client:
    user.language = language
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    return client


def errors(html: str) -> list[str]:
    return re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', html, re.S)


# --- R3.4, R9: the minutes -------------------------------------------------------------------


@pytest.fixture
def absent_hearing(world) -> Hearing:
    """A civil hearing nobody came to: R3.4 leaves the minutes to the judge."""
    hearing = world.hearing(court="a", kind="civil", all_participants_absent=True)
    assert hearing.recording_required == "judge_decides"
    return hearing


def minutes_url(hearing: Hearing) -> str:
    return reverse("web:minutes_decision", args=[hearing.pk])


def test_r3_4_judge_decides_minutes_in_the_browser(world, absent_hearing):
    judge = browser(world.person("judge"))
    page = judge.get(minutes_url(absent_hearing)).content.decode()
    assert 'id="minutes-form"' in page and "Әзірге шешім жоқ." in page
    answer = judge.post(
        minutes_url(absent_hearing), {"keep_minutes": "no", "note": "Тараптар келмеді."}
    )
    assert answer.status_code == 302
    decision = MinutesDecision.objects.get(hearing=absent_hearing)
    assert decision.keep_minutes is False and decision.note == "Тараптар келмеді."
    assert decision.decided_by == world.person("judge")
    assert AuditEvent.objects.filter(action="hearing.minutes_decision").count() == 1
    page = judge.get(answer["Location"]).content.decode()
    assert "Хаттама туралы шешім жазылды." in page
    latest = page.split('id="latest-decision"')[1].split("</div>")[0]
    assert "Хаттама жүргізілмейді" in latest and "Тараптар келмеді." in latest
    # A second decision takes the first one's place; both stay on record.
    judge.post(minutes_url(absent_hearing), {"keep_minutes": "yes"})
    page = judge.get(minutes_url(absent_hearing)).content.decode()
    latest = page.split('id="latest-decision"')[1].split("</div>")[0]
    assert "Хаттама жүргізіледі: сот отырысы жазылады" in latest
    assert "Бұрынғы шешімдер (1)" in page
    assert MinutesDecision.objects.filter(hearing=absent_hearing).count() == 2


@pytest.mark.parametrize(
    ("data", "name", "said"),
    [
        ({"note": "x"}, "keep_minutes", "Выберите, ведётся ли протокол."),
        ({"keep_minutes": "no", "note": "я" * 2001}, "note", "Не более 2000 символов"),
        ({"keep_minutes": "no", "note": "a\x00b"}, "note", "невидимый"),
    ],
    ids=["no-choice", "too-long", "nul"],
)
def test_r3_4_bad_input_told_next_to_the_field_in_russian(world, absent_hearing, data, name, said):
    judge = browser(world.person("judge"), "ru")
    answer = judge.post(minutes_url(absent_hearing), data)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert said in " ".join(re.findall(r'class="field-error"[^>]*>(.*?)</p>', page))
    assert f'id="field-{name}"' in page and 'class="field invalid" id="field-' + name in page
    assert not MinutesDecision.objects.exists()


def test_r3_4_only_the_hearings_judge_decides_others_see(world, absent_hearing):
    MinutesDecision.objects.create(
        hearing=absent_hearing,
        keep_minutes=True,
        note="",
        decided_by=world.person("judge"),
        decided_at=timezone.now(),
    )
    secretary = browser(world.person("secretary"))
    page = secretary.get(minutes_url(absent_hearing)).content.decode()
    assert "Хаттама жүргізіледі" in page and 'id="minutes-form"' not in page
    assert "Хаттама туралы тек сот отырысының судьясы шешеді." in page
    assert secretary.post(minutes_url(absent_hearing), {"keep_minutes": "no"}).status_code == 403
    other_judge = browser(world.person("judge", "z"))
    assert other_judge.get(minutes_url(absent_hearing)).status_code == 404
    assert other_judge.post(minutes_url(absent_hearing), {"keep_minutes": "no"}).status_code == 404
    assert MinutesDecision.objects.filter(hearing=absent_hearing).count() == 1


def test_r3_4_participant_sees_nothing_of_the_minutes(world, absent_hearing):
    from taspa.access.actions import link_case_party
    from taspa.courts.actions import RoleGrant, create_user
    from taspa.courts.policy import Role

    party = create_user(
        actor=world.admin,
        username="party",
        full_name="Әсел Үмбетова",
        roles=[RoleGrant(role=Role.PARTICIPANT.value, court=world.courts["a"])],
        password="pw",
    )
    link_case_party(actor=world.admin, case=absent_hearing.case, user=party, role="participant")
    client = browser(party)
    assert client.get(minutes_url(absent_hearing)).status_code == 404
    assert client.post(minutes_url(absent_hearing), {"keep_minutes": "no"}).status_code == 404
    assert 'class="minutes-link"' not in client.get(reverse("web:home")).content.decode()


def test_r3_where_the_rules_decide_no_decision_is_asked(world):
    hearing = world.hearing(court="a", kind="civil")  # recording required (R3)
    judge = browser(world.person("judge"), "ru")
    page = judge.get(minutes_url(hearing)).content.decode()
    assert 'id="minutes-form"' not in page
    assert "Записывается ли это заседание, решают Правила" in page
    answer = judge.post(minutes_url(hearing), {"keep_minutes": "no"})  # a stale page's post
    assert answer.status_code == 200
    assert "решают Правила: решение судьи не требуется." in " ".join(
        errors(answer.content.decode())
    )
    assert not re.search(r"\bR\d", answer.content.decode().split("<main")[1])
    assert not MinutesDecision.objects.exists()


def test_r9_minutes_page_states_why_the_hearing_was_not_recorded(world):
    hearing = world.hearing(court="a", kind="civil")
    open_incident(
        actor=None, hearing=hearing, kind="recording_impossible", detail="микрофон істемейді"
    )
    page = browser(world.person("judge")).get(minutes_url(hearing)).content.decode()
    text = page.split('id="minutes-text"')[1]
    assert "Сот отырысының аудио-, бейнежазбасы жүргізілмеді." in text
    assert "микрофон істемейді" in text
    assert f"/api/v1/hearings/{hearing.pk}/minutes-reason?language=kk" in text
    assert f"/api/v1/hearings/{hearing.pk}/minutes-reason?language=ru" in text
    ru = browser(world.person("judge"), "ru").get(minutes_url(hearing)).content.decode()
    assert "Аудио-, видеозапись судебного заседания не велась." in ru


def test_r3_4_r9_the_judges_dashboard_shows_what_waits_for_a_decision(world, absent_hearing):
    judge = browser(world.person("judge"))
    page = judge.get(reverse("web:dashboard")).content.decode()
    assert "Судьяның шешімдері" in page and minutes_url(absent_hearing) in page
    assert minutes_url(absent_hearing) in judge.get(reverse("web:home")).content.decode()
    judge.post(minutes_url(absent_hearing), {"keep_minutes": "yes"})
    assert minutes_url(absent_hearing) not in judge.get(reverse("web:dashboard")).content.decode()


# --- R32 for part of a hearing: closed parts of a sealed recording ---------------------------


@pytest.fixture
def sealed(world) -> Recording:
    """A sealed recording of 5 minutes of court A's hearing (judge-a, secretary-a)."""
    hearing = world.hearing(court="a", kind="civil")
    Hearing.objects.filter(pk=hearing.pk).update(state="sealed")
    started = timezone.now() - timedelta(hours=1)
    return Recording.objects.create(
        hearing=hearing,
        state=Recording.State.SEALED,
        spool_dir="-",
        started_at=started,
        stopped_at=started + timedelta(minutes=5),
        duration_s=300.0,
        file_name=f"{hearing.pk}.ts",
        sha256="ab" * 32,
        bytes=1000,
    )


def portions_url(recording: Recording) -> str:
    return reverse("web:closed_portions", args=[recording.pk])


def test_r32_judge_closes_part_of_a_sealed_recording(world, sealed):
    judge = browser(world.person("judge"))
    page = judge.get(portions_url(sealed)).content.decode()
    assert 'id="closed-portion-form"' in page and "Бұл жазбаның ешбір бөлігі жабылмаған." in page
    answer = judge.post(
        portions_url(sealed),
        {"start": "00:01:00", "end": "00:01:30.5", "reason": "Кәмелетке толмаған куәгер."},
    )
    assert answer.status_code == 302, errors(answer.content.decode())
    portion = ClosedPortion.objects.get(hearing=sealed.hearing)
    assert (portion.start_s, portion.end_s) == (60.0, 90.5)
    assert portion.source == "judge_decision" and portion.reason == "Кәмелетке толмаған куәгер."
    assert portion.start_at == sealed.started_at + timedelta(seconds=60)
    page = judge.get(answer["Location"]).content.decode()
    row = page.split(f'id="portion-{portion.pk}"')[1].split("</tr>")[0]
    assert "00:01:00" in row and "00:01:30" in row and "мөрлегеннен кейінгі судья шешімі" in row
    # R19: the recording itself is untouched.
    after = Recording.objects.get(pk=sealed.pk)
    assert (after.sha256, after.bytes, after.duration_s, after.state) == (
        sealed.sha256,
        sealed.bytes,
        sealed.duration_s,
        "sealed",
    )
    # The playback page lists the closed part for the judge, with the way to correct it.
    panel = judge.get(reverse("web:recording", args=[sealed.pk])).content.decode()
    panel = panel.split('id="closed-parts"')[1].split("</section>")[0]
    assert "00:01:00–00:01:30" in panel and "Бөлікті жабу немесе түзету" in panel


@pytest.mark.parametrize(
    ("data", "name", "rule"),
    [
        ({"start": "00:02:00", "end": "00:01:00", "reason": "д"}, "end", "должно закончиться"),
        ({"start": "00:00:20", "end": "00:00:40", "reason": "д"}, "start", "пересекается"),
        ({"start": "00:06:00", "reason": "д"}, "start", "в пределах записи"),
        ({"start": "00:04:00", "end": "00:10:00", "reason": "д"}, "end", "в пределах записи"),
        ({"start": "00:03:00", "end": "00:03:10", "reason": " "}, "reason", "нужно решение судьи"),
        ({"start": "1:75", "reason": "д"}, "start", "чч:мм:сс"),
        ({"start": "", "reason": "д"}, "start", "Обязательное поле."),
        ({"start": "00:03:00", "reason": "д" * 4001}, "reason", "Не более 4000 символов"),
    ],
    ids=["end-before-start", "overlap", "start-outside", "end-outside", "no-decision",
         "not-a-time", "no-start", "too-long"],
)  # fmt: skip
def test_r32_refusals_told_next_to_the_field_nothing_stored(world, sealed, data, name, rule):
    ClosedPortion.objects.create(
        hearing=sealed.hearing,
        recording=sealed,
        start_at=sealed.started_at + timedelta(seconds=10),
        end_at=sealed.started_at + timedelta(seconds=30),
        start_s=10.0,
        end_s=30.0,
        source="judge_decision",
        reason="Шешім",
        created_by=world.person("judge"),
    )
    judge = browser(world.person("judge"), "ru")
    answer = judge.post(portions_url(sealed), data)
    assert answer.status_code == 200
    page = answer.content.decode()
    block = page.split(f'id="field-{name}"')[1].split('<div class="field')[0]
    assert rule in block, (name, errors(page))
    assert page.count('class="field-error"') == 1
    assert ClosedPortion.objects.filter(hearing=sealed.hearing).count() == 1


def test_r32_a_correction_is_a_new_part_that_takes_the_old_ones_place(world, sealed):
    judge = browser(world.person("judge"))
    judge.post(portions_url(sealed), {"start": "00:01:00", "end": "00:01:30", "reason": "Шешім"})
    old = ClosedPortion.objects.get()
    form = judge.get(portions_url(sealed), {"correct": old.pk}).content.decode()
    assert 'value="00:01:00"' in form and 'value="00:01:30"' in form
    assert reverse("web:closed_portion_correct", args=[sealed.pk, old.pk]) in form
    url = reverse("web:closed_portion_correct", args=[sealed.pk, old.pk])
    answer = judge.post(url, {"start": "00:00:50", "end": "00:01:40", "reason": ""})
    assert answer.status_code == 302, errors(answer.content.decode())
    new = ClosedPortion.objects.get(supersedes=old)
    assert (new.start_s, new.end_s, new.reason) == (50.0, 100.0, "Шешім")  # reason kept
    old.refresh_from_db()
    assert (old.start_s, old.end_s) == (60.0, 90.0)  # nothing edited
    page = judge.get(portions_url(sealed)).content.decode()
    assert f'id="portion-{old.pk}"' not in page and f'id="portion-{new.pk}"' in page
    assert "00:01:00–00:01:30 бөлігін түзетеді" in page
    # The old one cannot be corrected again: the refusal says so, nothing is stored.
    again = judge.post(url, {"start": "00:00:10", "end": "00:00:20", "reason": "x"})
    assert "соңғы нұсқасын өзгертіңіз" in again.content.decode()
    assert ClosedPortion.objects.count() == 2


def test_r32_a_part_left_open_is_ended_by_the_judge(world, sealed):
    judge = browser(world.person("judge"))
    judge.post(portions_url(sealed), {"start": "00:04:00", "reason": "Шешім"})
    portion = ClosedPortion.objects.get()
    assert portion.end_s is None
    page = judge.get(portions_url(sealed)).content.decode()
    assert "жазбаның соңына дейін" in page
    url = reverse("web:closed_portion_end", args=[sealed.pk, portion.pk])
    refused = judge.post(url, {"end": "00:03:00"}).content.decode()
    assert "басталғаннан кейін аяқталуы тиіс" in refused.split(f'id="end-{portion.pk}_error"')[1]
    assert judge.post(url, {"end": "00:04:30"}).status_code == 302
    portion.refresh_from_db()
    assert portion.end_s == 270.0


def test_r32_other_staff_see_the_parts_not_the_form_participants_nothing(world, sealed):
    judge = browser(world.person("judge"))
    judge.post(portions_url(sealed), {"start": "00:01:00", "end": "00:01:30", "reason": "Шешім"})
    secretary = browser(world.person("secretary"))
    page = secretary.get(portions_url(sealed)).content.decode()
    assert "00:01:00" in page and 'id="closed-portion-form"' not in page
    assert "?correct=" not in page and 'id="audio"' not in page
    data = {"start": "00:02:00", "end": "00:02:30", "reason": "x"}
    assert secretary.post(portions_url(sealed), data).status_code == 403
    playback = secretary.get(reverse("web:recording", args=[sealed.pk])).content.decode()
    assert "Жазбаның жабық бөліктері" in playback.split('id="closed-parts"')[1]
    assert browser(world.person("judge", "z")).get(portions_url(sealed)).status_code == 404
    from taspa.courts.actions import RoleGrant, create_user
    from taspa.courts.policy import Role

    party = create_user(
        actor=world.admin,
        username="party",
        full_name="Әсел Үмбетова",
        roles=[RoleGrant(role=Role.PARTICIPANT.value, court=world.courts["a"])],
        password="pw",
    )
    from taspa.courts.models import HearingParticipant

    HearingParticipant.objects.filter(hearing=sealed.hearing).update(user=party)
    assert browser(party).get(portions_url(sealed)).status_code == 404
    assert browser(party).post(portions_url(sealed), data).status_code == 404
    assert ClosedPortion.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:12:30", 750.0), ("1:02:03.5", 3723.5), ("02:03", 123.0), ("75", 75.0),
     ("00:00:01,25", 1.25), ("1:75", None), ("00:60:00", None), ("-1", None), ("abc", None)],
)  # fmt: skip
def test_r32_offsets_are_read_as_the_player_shows_them(text, seconds):
    assert parse_offset(text) == seconds
    if seconds is not None:
        assert parse_offset(offset_text(seconds)) == pytest.approx(seconds, abs=0.1)
