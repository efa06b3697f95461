"""The web shell: sign-in, the user's hearings only, the language switch remembered per user."""

import gettext
from pathlib import Path

import polib
import pytest
from django.test import Client

import taspa


@pytest.fixture
def signed_in(world):
    def sign_in(role="secretary", court="a"):
        client = Client()
        assert client.login(username=f"{role}-{court}", password="pw")
        return client

    return sign_in


def test_home_requires_sign_in(db):
    response = Client().get("/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_login_page_is_kazakh_by_default_and_russian_on_request(db, settings):
    settings.LANGUAGE_CODE = "kk"
    assert "Кіру" in Client().get("/login/").content.decode()
    client = Client()
    client.cookies["django_language"] = "ru"
    assert "Войти" in client.get("/login/").content.decode()


def test_secretary_sees_own_courts_hearings_only(world, signed_in):
    own = world.hearing(court="a")
    other = world.hearing(court="b")
    page = signed_in().get("/").content.decode()
    assert own.case.number in page
    assert other.case.number not in page


def test_language_choice_is_remembered_for_the_user(world, signed_in):
    client = signed_in()
    client.post("/language/", {"language": "ru", "next": "/"})
    secretary = world.person("secretary")
    secretary.refresh_from_db()
    assert secretary.language == "ru"
    fresh = signed_in()  # another browser: no cookie, the stored choice applies
    assert "Судебные заседания" in fresh.get("/").content.decode()
    fresh.post("/language/", {"language": "kk", "next": "/"})
    assert "Сот отырыстары" in fresh.get("/").content.decode()


def test_language_switch_refuses_foreign_redirects(world, signed_in):
    response = signed_in().post("/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_kazakh_names_render(world, signed_in):
    world.person("secretary")
    hearing = world.hearing(court="a")
    hearing.case.number = "Іс-ӘҒҚҢӨҰҮҺІ-1"
    hearing.case.save()
    assert "Іс-ӘҒҚҢӨҰҮҺІ-1" in signed_in().get("/").content.decode()


def test_admin_site_is_for_system_admins_only(world, signed_in):
    assert signed_in("court_admin").get("/admin/").status_code == 302
    admin = Client()
    assert admin.login(username="root", password="pw")
    assert admin.get("/admin/").status_code == 200


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_translations_are_complete(language):
    """Kazakh and Russian are complete: no untranslated or fuzzy entry, and the compiled .mo
    file says the same as the .po file."""
    po = Path(taspa.__file__).parent / "locale" / language / "LC_MESSAGES" / "django.po"
    catalogue = polib.pofile(str(po))
    entries = [e for e in catalogue if not e.obsolete]
    assert len(entries) > 50
    assert [e.msgid for e in entries if not e.msgstr or "fuzzy" in e.flags] == []
    with po.with_suffix(".mo").open("rb") as compiled:
        translations = gettext.GNUTranslations(compiled)
    stale = [e.msgid for e in entries if translations.gettext(e.msgid) != e.msgstr]
    assert stale == [], "the .mo file is older than the .po file: run scripts/i18n_fill.py"
