"""Error pages a person may meet (400, 403, CSRF 403, 404, 500) are the court's own pages in
the user's language, with the way back — never Django's bare English pages."""

from __future__ import annotations

import json

import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from django.views.defaults import server_error


@pytest.fixture
def secretary_ru(world) -> Client:
    client = Client()
    client.force_login(world.person("secretary"))
    client.cookies["django_language"] = "ru"
    return client


def test_404_is_styled_in_the_users_language(secretary_ru):
    answer = secretary_ru.get("/no/such/page/")
    page = answer.content.decode()
    assert answer.status_code == 404
    assert "Страница не найдена" in page and 'lang="ru"' in page
    assert 'href="/"' in page or "Назад к списку заседаний" in page
    assert "Not Found" not in page and "The requested resource" not in page


def test_404_in_kazakh(world):
    client = Client()
    client.force_login(world.person("secretary"))
    client.cookies["django_language"] = "kk"
    page = client.get("/no/such/page/").content.decode()
    assert "Бет табылмады" in page and 'lang="kk"' in page


def test_csrf_refusal_explains_and_saves_nothing(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.person("secretary"))
    client.cookies["django_language"] = "ru"
    hearing = world.hearing()
    answer = client.post(f"/hearings/{hearing.pk}/console/start")
    page = answer.content.decode()
    assert answer.status_code == 403
    assert "Форма устарела" in page and "CSRF verification failed" not in page
    hearing.refresh_from_db()
    assert hearing.state in ("idle", "preflight")


def test_500_page_needs_no_database_and_speaks_the_language(rf: RequestFactory):
    with translation.override("ru"):
        answer = server_error(rf.get("/"))
    page = answer.content.decode()
    assert answer.status_code == 500
    assert "Что-то пошло не так на сервере" in page and "Traceback" not in page


def test_order_p5_every_page_names_the_text_of_the_rules_it_follows(secretary_ru):
    page = " ".join(secretary_ru.get("/").content.decode().split())
    assert "приказ от 24.11.2015 № 6001-15-7-6/486" in page
    assert "в редакции от 03.06.2025 с изменением от 17.03.2026 № 1" in page


def test_database_outage_is_503_with_retry_after_never_500(rf: RequestFactory):
    """While PostgreSQL restarts every request fails alike: a temporary outage (503 with
    Retry-After, so the proxy and the client try again), in the contract's shape on the API."""
    from django.db import OperationalError

    from taspa.web.views.errors import server_error as taspa_server_error

    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        api = taspa_server_error(rf.get("/api/v1/hearings/1"))
        page = taspa_server_error(rf.get("/hearings/1/console"))
    assert api.status_code == 503 and api["Retry-After"]
    assert json.loads(api.content)["error"] == "database_unavailable"
    assert page.status_code == 503 and b"Traceback" not in page.content
    try:
        raise ValueError("a bug")
    except ValueError:
        bug = taspa_server_error(rf.get("/api/v1/hearings/1"))
    assert bug.status_code == 500 and json.loads(bug.content)["error"] == "server_error"
    assert "Retry-After" not in bug
