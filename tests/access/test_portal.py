"""The participant's portal (R28–R35): the online petition goes through the same action as the
API, refusals come back with their rule, the copy downloads while its link lives, the applicant
confirms receiving it; staff fulfil from their list."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from taspa.access.models import Copy, Petition
from taspa.courts.models import HearingParticipant

pytestmark = pytest.mark.slow


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def enter(world, hearing, role: str = "participant"):
    person = world.person(role)
    HearingParticipant.objects.create(
        hearing=hearing, name=person.full_name, role="plaintiff", user=person
    )
    return person


def petition_data(hearing, **changes):
    data = {
        "hearing": hearing.pk,
        "kind": "copy",
        "delivery": "online",
        "applicant_name": "Әсел Үмбетова",
        "address": "Алматы, Абай 1",
        "phone": "+7 700 000 00 00",
        "undertakings_accepted": "on",
        "personal_data_warning_acknowledged": "on",
    }
    return data | changes


def test_r31_participant_petitions_staff_issue_and_participant_downloads_audio_only(
    world, sealed_hearing
):
    hearing = sealed_hearing("civil")
    participant = enter(world, hearing)
    portal = signed_in(participant)
    page = portal.get("/access/portal/").content.decode()
    assert hearing.case.number in page and 'id="petition-form"' in page

    answer = portal.post("/access/portal/", petition_data(hearing))
    assert answer.status_code == 302
    petition = Petition.objects.get(applicant_user=participant)
    assert (petition.channel, petition.media, petition.form) == ("online", "audio", "appendix2")
    assert petition.due_date is not None  # R34: five working days
    listing = portal.get("/access/portal/").content.decode()
    assert (
        f'id="petition-{petition.pk}"' in listing
        and petition.due_date.strftime("%d.%m.%Y") in listing
    )

    staff = signed_in(world.person("secretary"))
    assert f'id="fulfil-{petition.pk}"' in staff.get("/access/petitions/").content.decode()
    assert staff.post(f"/access/petitions/{petition.pk}/fulfil").status_code == 302
    copy = Copy.objects.get(petition=petition)

    listing = portal.get("/access/portal/").content.decode()
    assert f"/api/v1/copies/{copy.pk}/download" in listing
    download = portal.get(f"/api/v1/copies/{copy.pk}/download")
    assert download.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))).namelist()
    assert any(n.endswith((".audio.ogg", ".audio.mka")) for n in names), names  # R31: audio only

    assert portal.post(f"/access/portal/{petition.pk}/receipt").status_code == 302
    petition.refresh_from_db()
    assert petition.state == "closed" and petition.receipt.channel == "online"


def test_r32_closed_hearing_copy_is_refused_with_the_offer_of_a_review(world, sealed_hearing):
    hearing = sealed_hearing("civil", closed=True)
    portal = signed_in(enter(world, hearing))
    page = portal.post("/access/portal/", petition_data(hearing)).content.decode()
    assert 'id="petition-refused"' in page and 'id="ask-review"' in page
    assert "reviewed in court instead" in page and "R32" not in page  # no rule ids to citizens
    assert not Petition.objects.exists()
    answer = portal.post("/access/portal/", petition_data(hearing, kind="review"))
    assert answer.status_code == 302
    assert Petition.objects.get().kind == "review"


def test_r31_copy_needs_the_personal_data_undertaking(world, sealed_hearing):
    hearing = sealed_hearing("civil")
    portal = signed_in(enter(world, hearing))
    data = petition_data(hearing)
    del data["personal_data_warning_acknowledged"]
    page = portal.post("/access/portal/", data).content.decode()
    assert "A copy is given only to an applicant who has been warned." in page
    assert not Petition.objects.exists()


@pytest.mark.parametrize("missing", ["undertakings_accepted", "personal_data_warning_acknowledged"])
def test_r31_appendix_online_form_refuses_a_copy_without_its_undertakings(
    world, sealed_hearing, missing
):
    hearing = sealed_hearing("civil")
    portal = signed_in(enter(world, hearing))
    data = petition_data(hearing)
    del data[missing]
    answer = portal.post("/access/portal/", data, HTTP_ACCEPT_LANGUAGE="ru")
    page = answer.content.decode()
    assert answer.status_code == 200 and not Petition.objects.exists()
    assert 'class="errorlist"' in page  # the message stands next to the box left unticked


def test_r31_appendix_online_form_carries_the_undertakings_word_for_word(world, sealed_hearing):
    """Appendix 2 (a civil case): «Обязуюсь: 1) использовать предоставляемую аудиозапись …»,
    the warning «…предупрежден» and «…будет отформатирован и имеющаяся на нем информация будет
    удалена», as the order words them; a criminal case adds Appendix 1's «аудио-, видеозаписи»."""
    civil = sealed_hearing("civil")
    participant = enter(world, civil)
    portal = signed_in(participant)
    portal.cookies["django_language"] = "ru"
    page = " ".join(portal.get("/access/portal/").content.decode().split())
    for words in (
        "Обязуюсь:",
        "использовать предоставляемую аудиозапись судебного заседания только в целях "
        "судопроизводства, а также в целях установления фактических данных;",
        "не допускать распространение персональных данных, если при этом нарушаются права и "
        "свободы субъекта, а также затрагиваются законные интересы иных физических и (или) "
        "юридических лиц.",
        "Об установленной законом административной (статья 79 КоАП) и уголовной (статья 147 "
        "УК РК) ответственности за нарушение конституционных прав граждан, а также за "
        "нарушение Закона Республики Казахстан &quot;О персональных данных и их защите&quot; "
        "предупрежден.",
        "Материальный (электронный) носитель без каких-либо записей прилагается.",
        "Проинформирован и согласен, что прилагаемый материальный (электронный) носитель будет "
        "отформатирован и имеющаяся на нем информация будет удалена.",
    ):
        assert words in page, words
    assert "аудио-, видеозаписи судебного заседания только" not in page  # no criminal case here
    criminal = sealed_hearing("criminal")
    HearingParticipant.objects.create(
        hearing=criminal, name=participant.full_name, role="victim", user=participant
    )
    page = " ".join(portal.get("/access/portal/").content.decode().split())
    assert (
        "использовать предоставляемую аудио-, видеозаписи судебного заседания только в целях "
        "судопроизводства" in page
    )


def test_r28_only_hearings_of_the_partys_own_cases_are_offered(world, sealed_hearing):
    mine, other = sealed_hearing("civil"), sealed_hearing("civil")
    portal = signed_in(enter(world, mine))
    page = portal.get("/access/portal/").content.decode()
    assert mine.case.number in page and other.case.number not in page
    answer = portal.post("/access/portal/", petition_data(other))
    assert answer.status_code == 200 and not Petition.objects.exists()  # not a valid choice


def test_expired_link_is_said_and_refused(world, sealed_hearing):
    hearing = sealed_hearing("civil")
    participant = enter(world, hearing)
    portal = signed_in(participant)
    portal.post("/access/portal/", petition_data(hearing))
    petition = Petition.objects.get()
    signed_in(world.person("secretary")).post(f"/access/petitions/{petition.pk}/fulfil")
    Copy.objects.filter(petition=petition).update(expires_at=timezone.now() - timedelta(days=1))
    page = portal.get("/access/portal/").content.decode()
    assert "/download" not in page and "expired" in page
    assert portal.get(f"/api/v1/copies/{petition.copy.pk}/download").status_code == 422


def test_petitions_link_leads_staff_and_parties_to_their_page(world):
    assert signed_in(world.person("secretary")).get("/access/").url == "/access/petitions/"
    assert signed_in(world.person("participant")).get("/access/").url == "/access/portal/"
    page = signed_in(world.person("participant")).get("/access/portal/").content.decode()
    assert "not linked your account" in page


def test_r31_staff_list_names_the_copys_media_in_the_users_language(world, sealed_hearing):
    hearing = sealed_hearing("civil")
    participant = enter(world, hearing)
    assert signed_in(participant).post("/access/portal/", petition_data(hearing)).status_code == 302
    staff = signed_in(world.person("secretary"))
    staff.cookies["django_language"] = "ru"
    page = staff.get("/access/petitions/").content.decode()
    assert "только аудио" in page.lower()
    assert ">audio<" not in page
