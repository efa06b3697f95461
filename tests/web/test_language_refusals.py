"""Issue 16 point 5, clean language, for refusals: what the actions refuse — through a web form
with bad input, or through the API by the caller's Accept-Language — reads in Kazakh or in
Russian, with no Latin word outside the walk's allow-list and no requirement id; a library's
or a program's own words (pyHanko, OpenSSL, ffmpeg, the OS) reach the reader as a named
reason in their language, never themselves.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override
from test_language_walk import (  # the walk's detector, and its scene's fixtures
    REQUIREMENT,
    ROLES,
    _scene_words,
    leaks,
    scene,  # noqa: F401
    security_pki,  # noqa: F401
    visible_text,
)

from security.scene import Scene
from security.test_web_matrix import PAGES
from taspa.errors import InvalidInput, NotFound
from taspa.incidents.actions import notify_court_admins
from taspa.incidents.detail_text import incident_text
from taspa.incidents.models import Notification
from taspa.incidents.preflight_text import check_rows
from taspa.recorder.models import Preflight
from taspa.sealing.verify_reasons import reason_of
from taspa.web.verify_report import report_rows

LANGS = ("kk", "ru")
_FORMSET = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")


def _bad(value: object) -> object:
    """A value no form takes where it asks for this one (a date, a number, a choice, a text)."""
    if isinstance(value, list):
        return ["0"]
    return "2999-99-99" if str(value)[:2] in ("19", "20") else "-1"


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_every_form_refuses_bad_input_in_the_users_language(scene: Scene, lang: str):  # noqa: F811
    """Each form of PAGES, as every role that may send it, with each field emptied and then
    with a value it cannot take: the page it answers with (its message next to the field or at
    the top) speaks the user's language, and nothing breaks (< 500)."""
    for actor in ROLES.values():
        user = scene.users[actor]
        user.language = lang
        user.save(update_fields=["language"])
    # A notice is written in its recipient's language when it is sent: again, now.
    Notification.objects.all().delete()
    notify_court_admins(hearing=scene.hearing)
    report: dict[str, list[str]] = {}
    sent = 0
    for role, actor in ROLES.items():
        client = scene.web(actor)
        for name, page in PAGES.items():
            if page.method != "post" or actor not in page.allowed or name == "web:set_language":
                continue
            data = (page.data(scene) if callable(page.data) else page.data) or {}
            # (a formset's management fields are the page's own, not the user's input)
            kept = {key: value for key, value in data.items() if key.endswith(_FORMSET)}
            for variant in (
                dict.fromkeys(data, "") | kept,
                {key: _bad(value) for key, value in data.items()} | kept,
            ):
                answer = client.post(page.url(scene), variant, follow=True)
                sent += 1
                assert answer.status_code < 500, f"{role} {name}: {answer.status_code}"
                if not answer["Content-Type"].startswith("text/html"):
                    continue
                allowed = _scene_words(scene) | {"matrix"}  # (the reasons the matrix typed in)
                found = leaks(visible_text(answer.content.decode()), allowed, lang)
                if found:
                    report.setdefault(name, []).append(f"{role}: {' '.join(found)}")
    for name, lines in sorted(report.items()):
        print(f"[{lang}] POST bad input {name}: {'; '.join(lines)}")
    print(f"[{lang}] bad form posts: {sent}")
    assert sent >= 20
    assert report == {}


def _clean(detail: str, lang: str) -> list[str]:
    return leaks(detail, set(), lang)


@pytest.mark.parametrize("lang", LANGS)
def test_api_refusals_speak_the_callers_language(world, api_as, lang):
    """A sample of the API's refusals (404, 403, 422 with values in them) by Accept-Language."""
    secretary = api_as(world.person("secretary"))
    secretary.headers["Accept-Language"] = lang
    archivist = api_as(world.person("archivist"))
    archivist.headers["Accept-Language"] = lang
    hearing = world.hearing(court="a", kind="civil")
    answers = {
        "no hearing": secretary.get("/hearings/999999"),
        "no case": secretary.get("/cases/999999/retention"),
        "pause reason": secretary.post(f"/hearings/{hearing.pk}/pause", {"reason": "lunch"}),
        "no incident": secretary.post("/incidents/999999/forward", {"note": "x"}),
        "archivist starts": archivist.post(f"/hearings/{hearing.pk}/start"),
    }
    bad = {}
    for what, answer in answers.items():
        assert 400 <= answer.status_code < 500, (what, answer.status_code, answer.content)
        detail = answer.json()["detail"]
        found = [w for w in _clean(detail, lang) if w != "lunch"]  # (the caller's own word)
        if found or not detail:
            bad[what] = (detail, found)
    assert bad == {}


@pytest.mark.parametrize("lang", LANGS)
def test_r8_api_refusal_of_a_start_without_a_recent_check_speaks_the_callers_language(
    world, api_as, settings, lang
):
    settings.TASPA_PREFLIGHT_MAX_AGE_MIN = 60
    secretary = world.person("secretary")
    api = api_as(secretary)
    api.headers["Accept-Language"] = lang
    hearing = world.hearing(court="a", kind="criminal")
    never = api.post(f"/hearings/{hearing.pk}/start")
    assert never.status_code == 409 and never.json()["error"] == "preflight_required"
    earlier = world.hearing(court="a", kind="criminal")  # the same courtroom, hours ago
    Preflight.objects.create(
        hearing=earlier,
        at=timezone.now() - timedelta(hours=3),
        ok=True,
        checks=[],
        run_by=secretary,
    )
    stale = api.post(f"/hearings/{hearing.pk}/start")
    assert stale.status_code == 409
    for answer in (never, stale):
        detail = answer.json()["detail"]
        assert _clean(detail, lang) == [] and "equipment" not in detail, detail
    assert "60" in stale.json()["detail"] and "180" in stale.json()["detail"]


def test_a_refusal_is_translated_when_shown_and_keeps_its_english_and_technical_words():
    refusal = NotFound("No hearing %(hearing_id)s.", params={"hearing_id": 7})
    with override("ru"):
        assert refusal.detail == "Судебного заседания № 7 нет."
    with override("kk"):
        assert refusal.detail == "№ 7 сот отырысы жоқ."
        failed = InvalidInput(
            "capture_failed",
            "Capture could not start: the sound or video source cannot be opened.",
            technical="rtsp://cam-1: Protocol not found",
        )
        assert "Protocol" not in failed.detail and "rtsp" not in failed.detail
        assert failed.english.endswith("(rtsp://cam-1: Protocol not found)")
    with override("en"):
        assert str(refusal) == "No hearing 7."


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("The path could not be validated because no trust root was found", "untrusted_issuer"),
        ("unable to get local issuer certificate", "untrusted_issuer"),
        ("Error parsing asn1crypto.cms.ContentInfo - tag should have been 16", "damaged_data"),
        ("Insufficient data - 1024 bytes requested but only 12 available", "damaged_data"),
        ("The X.509 certificate provided has expired", "expired"),
        ("certificate revoked at 2026-01-02 (key_compromise)", "revoked"),
        ("message imprint mismatch", "digest_mismatch"),
        ("HTTPConnectionPool: Max retries exceeded (Connection refused)", "service_unreachable"),
        ("something entirely new", "unknown"),
    ],
)
def test_r14_library_failure_texts_are_named_reasons(text, reason):
    assert reason_of(text) == reason


@pytest.mark.parametrize("lang", LANGS)
def test_r14_verify_report_shows_the_reason_not_the_librarys_words(lang):
    raw = "The path could not be validated because no trust root was found: PathBuildingError"
    verdict = {
        "checks": [
            {
                "name": "certificate_chain",
                "ok": False,
                "detail": f"Secretary: {raw}",
                "code": "chain_invalid",
                "params": {"subject": "Дана Серікова", "error": raw},
            },
            {
                "name": "media_signature",
                "ok": False,
                "detail": "malformed signature: Error parsing asn1crypto.cms.SignedData",
                "code": "signature_malformed",
                "params": {"error": "Error parsing asn1crypto.cms.SignedData"},
            },
        ]
    }
    with override(lang):
        rows = report_rows(verdict)
    for row in rows:
        assert leaks(row["detail"], {"Дана", "Серікова"}, lang) == [], row
        assert row["technical"] and "Error" not in row["detail"] + row["label"]
    assert "PathBuildingError" in rows[0]["technical"]  # kept for the staff


@pytest.mark.parametrize("lang", LANGS)
def test_r8_console_equipment_check_shows_ffmpeg_failures_in_the_users_language(lang):
    checks = [
        {
            "name": "source:mic-1",
            "ok": False,
            "detail": "no audio within the time allowed: rtsp://x: Protocol not found",
        },
        {"name": "source:mic-2", "ok": True, "detail": "signal: peak -12.5 dBFS"},
        {"name": "disk_space", "ok": True, "detail": "1.20 GB needed for 8 h, 40.00 GB free"},
        {"name": "agent:server_reachable", "ok": False, "detail": "[Errno 111] Connection refused"},
        {"name": "clock", "ok": True, "detail": "server clock: this machine"},
        {"name": "sources", "ok": False, "detail": "Device or resource busy"},
    ]
    with override(lang):
        rows = check_rows(checks)
    text = " ".join(f"{row['label']}: {row['detail']}" for row in rows)
    assert leaks(text, {"mic-1", "mic-2"}, lang) == [], text
    assert not REQUIREMENT.search(text)
    assert "Protocol" not in text and "Errno" not in text
    assert "Protocol not found" in rows[0]["technical"]


@pytest.mark.parametrize("lang", LANGS)
def test_r9_incidents_the_system_opened_read_in_the_users_language(lang):
    """The console's and the inbox's incident lines: what the system wrote (ffmpeg's words in
    it) becomes a sentence of the user's language; a person's typed reason stays as typed."""
    written = [
        "Capture could not start: rtsp://cam-1: Protocol not found",
        "Equipment check failed (R8): source:mic-1: no audio within the time allowed: "
        "Device or resource busy; disk_space: 9.00 GB needed for 8 h, 1.00 GB free",
        "The recording could not be signed (R14): no key",
    ]
    with override(lang):
        shown = [incident_text(text) for text in written]
        typed = incident_text("Микрофон сынды")
    for text in shown:
        assert leaks(text, {"mic-1"}, lang) == [], text
    assert typed == "Микрофон сынды"
