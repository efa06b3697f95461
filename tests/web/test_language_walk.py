"""Issue 16 point 5, clean language: every page of every role, in Kazakh and in Russian, shows
no Latin-script word outside a short allow-list, and a participant sees no requirement id, code
or command name.

The scene of the security suite (tests/security/scene.py) holds every kind of object; each role
signs in with its interface language set on its profile (``User.language``, which
``taspa.web.middleware.UserLanguageMiddleware`` applies on every request) and GETs every page of
tests/security/test_web_matrix.py PAGES that it may see. The visible text is what a browser
shows: text outside <script>/<style>, plus the title, placeholder, aria-label, alt attributes
and button values. The error pages (403, 404, CSRF) are walked the same way.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable
from html.parser import HTMLParser

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from replication.sealed_factory import Pki, make_pki
from security.scene import Scene, build_scene, make_blank_pdf
from security.test_web_matrix import PAGES
from taspa.courts.models import Case, Court, Courtroom, HearingParticipant, User
from taspa.courts.policy import CIRCUMSTANCES, CaseKind, Instance, recording_requirement
from taspa.incidents.actions import notify_court_admins
from taspa.incidents.models import Incident, Notification
from taspa.recorder.models import Recording
from taspa.sealing.trust import load_trust_anchors

# The roles, each by one actor of the scene (court A's own staff, the region, the party).
ROLES = {
    "secretary": "secretary@own",
    "judge": "judge@own",
    "court administrator": "court_admin@own",
    "archivist": "archivist@own",
    "regional staff": "regional_staff@own",
    "regional head": "regional_head@own",
    "system admin": "system_admin",
    "participant": "party",
}

# Latin words a Kazakh or Russian reader is meant to see, each for a reason:
ALLOW = {
    # units, formats and file extensions, named so on Kazakh and Russian forms and screens
    "MiB", "GiB", "KiB", "dB", "dBFS", "Hz", "kHz", "ms",
    "PDF", "MP4", "MPEG-TS", "ts", "WebM", "Ogg", "Opus", "Matroska", "WAV", "ZIP", "USB",
    "p7s", "SHA-256", "BagIt", "PAdES",
    # the language switch: each button is the language's code, marked with its lang attribute
    "KK", "RU", "EN",
    # the product's name
    "Taspa",
}  # fmt: skip
# A medium's inventory number (M-12) is an identifier written on the stick, as a case number;
# a hexadecimal digest (SHA-256 of a file, shown so it can be compared) is one too.
IDENTIFIER = re.compile(r"M-\d+|[0-9a-f]{16,}")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*")
# "R3.1": a requirement id; the Rules' clause is shown as words ("п. 3.1 Правил") instead.
REQUIREMENT = re.compile(r"\bR\d{1,2}(?:\.\d+)?\b")
# The other language of the two: a Kazakh letter on a Russian page, a Russian function word on
# a Kazakh page (Kazakh writes none of these) — a text that exists in one language only.
KAZAKH_WORD = re.compile(r"\w*[ӘәҒғҚқҢңӨөҰұҮүҺһІі]\w*")
RUSSIAN_WORDS = frozenset(
    [
        "для",
        "или",
        "что",
        "при",
        "если",
        "который",
        "которая",
        "которые",
        "также",
        "чтобы",
        "только",
        "этот",
        "это",
    ]
)
CYRILLIC_WORD = re.compile(r"[А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі]+")
# One word for petition (the glossary): «өтінішхат»; «өтініш беруші» is the applicant.
OTHER_PETITION_WORD = re.compile(r"(?<!\w)[Өө]тініш(?!хат)\w*(?! беруш)")
COMMAND = re.compile(r"\btaspa\s+[a-z][a-z-]+")
ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
# Pages whose leaks are known and not fixed yet: page name -> reason. Nothing else may leak.
KNOWN_LEAKS: dict[str, str] = {}


@pytest.fixture(scope="module")
def security_pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("language-walk-pki"))


@pytest.fixture
def scene(world, settings, tmp_path, security_pki) -> Scene:
    """The security suite's scene: every role, and an object of every kind, in court A."""
    return build_scene(world, settings, tmp_path, security_pki, make_blank_pdf())


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self._hidden += 1
        found = dict(attrs)
        self.parts += [found[a] or "" for a in ATTRIBUTES if a in found]
        if tag == "input" and found.get("type") in ("submit", "button", "reset"):
            self.parts.append(found.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _scene_words(scene: Scene) -> set[str]:
    """Words of the data the scene's people typed in (names, case numbers, court codes, file
    names, free-text details): the court's records, not the interface's language."""
    texts: list[str] = []
    for user in User.objects.all():
        texts += [user.username, user.full_name]
    for court in Court.objects.all():
        texts += [court.code, court.name, court.region]
    texts += [room.name for room in Courtroom.objects.all()]
    texts += [case.number for case in Case.objects.all()]
    texts += [r.file_name + " " + r.signer_subject for r in Recording.objects.all()]
    texts += [f"{p.name} {p.role}" for p in HearingParticipant.objects.all()]
    texts += [i.detail for i in Incident.objects.all()]
    texts += [scene.copy.file_name, scene.copy.signer_subject, "Court A: review station"]
    texts += [m.mount_path + " " + m.bag_name for m in (scene.medium, scene.handed_medium)]
    # The certification authorities' names, as the verification report names them (their data).
    texts += [
        a.subject.rfc4514_string() for a in load_trust_anchors(django_settings.TASPA_TRUST_ANCHORS)
    ]
    texts = [text for text in texts if text]
    return {w for text in texts for w in (WORD.findall(text) + KAZAKH_WORD.findall(text))}


def leaks(text: str, allowed: set[str], lang: str = "") -> list[str]:
    """Latin words outside the allow-lists, requirement ids and command names in ``text``, and
    words of the other language (``lang``: the page's)."""
    found = [
        w
        for w in WORD.findall(text)
        if w not in allowed and w not in ALLOW and not IDENTIFIER.fullmatch(w)
    ]
    found += REQUIREMENT.findall(text) + COMMAND.findall(text)
    if lang == "ru":
        found += [w for w in KAZAKH_WORD.findall(text) if w not in allowed]
    if lang == "kk":
        found += [w for w in CYRILLIC_WORD.findall(text) if w.lower() in RUSSIAN_WORDS]
        found += OTHER_PETITION_WORD.findall(text)
    return sorted(set(found))


def _get_pages(actor: str) -> Iterable[str]:
    for name, page in PAGES.items():
        if page.method == "get" and actor in page.allowed and "_file" not in name:
            yield name


def _error_pages(scene: Scene, client: Client, actor: str, lang: str) -> dict[str, str]:
    pages = {"404": client.get("/no/such/page/")}
    if actor == "party":  # a staff page, for a participant: refused
        pages["403/404 staff page"] = client.get(reverse("web:incidents"))
    csrf = scene.web(actor, enforce_csrf_checks=True)
    pages["403 CSRF"] = csrf.post(reverse("web:console_operate", args=[scene.hearing.pk, "start"]))
    return {name: answer.content.decode() for name, answer in pages.items()}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_page_of_every_role_speaks_the_users_language(scene: Scene, lang: str):
    allowed = _scene_words(scene)
    report: dict[str, list[str]] = {}
    failures: list[str] = []
    walked: dict[str, int] = {}
    for actor in ROLES.values():
        user = scene.users[actor]
        user.language = lang
        user.save(update_fields=["language"])
    # A notice is written once, in its recipient's language when it is sent (as its e-mail
    # is): send the scene's again now that everyone has chosen theirs.
    Notification.objects.all().delete()
    notify_court_admins(hearing=scene.hearing)
    for role, actor in ROLES.items():
        client = scene.web(actor)
        texts: dict[str, str] = {}
        for name in _get_pages(actor):
            answer = client.get(PAGES[name].url(scene), follow=True)
            if name == "web:console_listen":  # a sound stream (409: not being recorded)
                continue
            if not answer["Content-Type"].startswith("text/html"):  # the console's JSON
                continue
            if answer.status_code != 200:
                failures.append(f"{role} {name}: {answer.status_code}")
                continue
            texts[name] = answer.content.decode()
        texts.update(_error_pages(scene, client, actor, lang))
        walked[role] = len(texts)
        for name, html in texts.items():
            if "<html" in html and f'lang="{lang}"' not in html:  # (not a panel's fragment)
                failures.append(f"{role} {name}: not served in {lang}")
            found = leaks(visible_text(html), allowed, lang)
            if found:
                report.setdefault(name, []).append(f"{role}: {' '.join(found)}")
                if os.environ.get("LANGUAGE_WALK_CONTEXT"):
                    text = visible_text(html)
                    for w in found:
                        i = text.find(w)
                        print(f"CTX {name} {w!r}: ...{text[max(0, i - 60) : i + 40]}...")
                if name not in KNOWN_LEAKS:
                    failures.append(f"{role} {name}")
    print()
    for name, lines in sorted(report.items()):
        print(f"[{lang}] {name}{' (known)' if name in KNOWN_LEAKS else ''}")
        for line in lines:
            print(f"    {line}")
    print(f"[{lang}] pages walked: {walked}")
    assert min(walked.values()) >= 4, walked  # every role reached its pages
    assert failures == []


def test_the_detector_finds_what_a_reader_would_notice():
    text = visible_text(
        "<html><head><title>Recording</title><style>p{color:red}</style></head><body>"
        "<p>Жазба R3.1 бойынша</p><input placeholder='Case number' value='a-1'>"
        "<script>var x = 1</script><p>Пайдаланыңыз: taspa verify, MP4, M-12, 5 MiB</p>"
    )
    assert "color" not in text and "var" not in text
    assert leaks(text, allowed=set()) == [
        "Case",
        "R3.1",
        "Recording",
        "number",
        "taspa",
        "taspa verify",
        "verify",
    ]


def _writ_preview(client: Client, world) -> str:
    data = {
        "case": world.case().pk,
        "courtroom": world.rooms["a"].pk,
        "instance": "first",
        "scheduled_at": "2026-12-03T10:00",
        "judge": world.person("judge").pk,
        "secretary": world.person("secretary").pk,
        "participants": "Әсел Үмбетова, талапкер",
        "circumstances": ["writ_proceedings"],
        "preview": "1",
    }
    answer = client.post(reverse("web:hearing_schedule"), data)
    assert answer.status_code == 200
    return answer.content.decode()


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_r3_schedule_page_explains_the_rule_in_the_users_language(world, lang: str):
    """R3.1 answered before saving: in Kazakh for a Kazakh reader (not the Russian original)."""
    user = world.person("court_admin")
    user.language = lang
    user.save(update_fields=["language"])
    client = Client()
    client.force_login(user)
    decision = recording_requirement(
        instance=Instance.FIRST, kind=CaseKind.CIVIL, circumstances={"writ_proceedings": True}
    )
    page = _writ_preview(client, world)
    shown, other = (
        (decision.explanation_kk, decision.explanation_ru)
        if lang == "kk"
        else (decision.explanation_ru, decision.explanation_kk)
    )
    assert shown in page and other not in page


def test_r3_r5_every_recording_decision_has_its_kazakh_explanation():
    """Every answer of clauses 3–5, for every instance, kind and pair of circumstances."""
    missing = set()
    for instance, kind in itertools.product(Instance, CaseKind):
        for pair in itertools.combinations_with_replacement(CIRCUMSTANCES, 2):
            decision = recording_requirement(
                instance=instance, kind=kind, circumstances=dict.fromkeys(pair, True)
            )
            if not decision.explanation_kk or re.search(r"[A-Za-z]", decision.explanation_kk):
                missing.add((decision.rule, decision.explanation_en))
    assert missing == set()


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_every_form_answers_in_the_users_language(scene: Scene, lang: str):
    """The answer of every form (the page it leads to, with its message or refusal) as every
    role that may send it, in the order of PAGES (later forms meet what earlier ones did)."""
    allowed = _scene_words(scene) | {"matrix"}  # the refusal reason typed in by the matrix
    for actor in ROLES.values():
        user = scene.users[actor]
        user.language = lang
        user.save(update_fields=["language"])
    Notification.objects.all().delete()  # sent again in the recipients' languages
    notify_court_admins(hearing=scene.hearing)
    report: dict[str, list[str]] = {}
    for role, actor in ROLES.items():
        client = scene.web(actor)
        for name, page in PAGES.items():
            if page.method != "post" or actor not in page.allowed or name == "web:set_language":
                continue
            data = page.data(scene) if callable(page.data) else page.data
            answer = client.post(page.url(scene), data or {}, follow=True)
            assert answer.status_code < 500, f"{role} {name}: {answer.status_code}"
            if not answer["Content-Type"].startswith("text/html"):
                continue
            # (what the forms wrote — a court, a person — is the court's data from now on)
            allowed = _scene_words(scene) | {"matrix"}
            found = leaks(visible_text(answer.content.decode()), allowed, lang)
            if found:
                report.setdefault(name, []).append(f"{role}: {' '.join(found)}")
    print()
    for name, lines in sorted(report.items()):
        print(f"[{lang}] POST {name}")
        for line in lines:
            print(f"    {line}")
    assert sorted(report) == []
