"""The demo court: one district court, its people and a demo courtroom (``taspa demo``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from taspa.courts import actions
from taspa.courts.actions import RoleGrant
from taspa.courts.models import Case, Court, Courtroom, Hearing, User

DEMO_PASSWORD = "demo"  # noqa: S105 — printed to the operator; demo data only
DEMO_COURT = "almaty-bostandyk"

# The synthetic courtroom: a Russian voice (espeak-ng, made at demo time) mixed with a tone,
# read at real time. The recorder issue turns these into a real capture.
DEMO_SOURCES = [
    {
        "kind": "audio",
        "format": "lavfi",
        "input": "sine=frequency=440:sample_rate=48000",
        "label": "Судья",
    },
]

DEMO_PEOPLE = [
    ("court_admin", "Әлия Серікқызы Нұрланова", "court_admin"),
    ("secretary", "Айгүл Қанатқызы Жұмабаева", "secretary"),
    ("judge", "Ерлан Бауыржанұлы Сәтбаев", "judge"),
    ("archivist", "Гүлнар Өмірзаққызы Иманова", "archivist"),
    ("participant", "Дәулет Ғалымұлы Үсенов", "participant"),
]


@dataclass(frozen=True)
class DemoWorld:
    admin: User
    court: Court
    courtroom: Courtroom
    secretary: User
    judge: User
    case: Case
    hearing: Hearing


def seed_demo() -> DemoWorld:
    """Create the demo court and people once; later runs find them and add a fresh hearing."""
    admin = actions.bootstrap_system_admin(
        username="admin", full_name="Жүйе әкімшісі", password=DEMO_PASSWORD
    )
    court = Court.objects.filter(code=DEMO_COURT).first() or actions.create_court(
        actor=admin,
        code=DEMO_COURT,
        name="Бостандық аудандық соты (Алматы)",
        level="district",
        region="Алматы",
    )
    people = {}
    for username, full_name, role in DEMO_PEOPLE:
        people[role] = User.objects.filter(username=username).first() or actions.create_user(
            actor=admin,
            username=username,
            full_name=full_name,
            roles=[RoleGrant(role=role, court=court)],
            password=DEMO_PASSWORD,
        )
    courtroom = Courtroom.objects.filter(court=court, name="Зал №1").first() or (
        actions.create_courtroom(actor=admin, court=court, name="Зал №1", sources=DEMO_SOURCES)
    )
    case = Case.objects.filter(court=court, number="7599-26-00-2/101").first() or (
        actions.register_case(
            actor=admin, court=court, number="7599-26-00-2/101", kind="civil", language="kk"
        )
    )
    hearing = actions.schedule_hearing(
        actor=people["secretary"],
        case=case,
        courtroom=courtroom,
        instance="first",
        closed=False,
        judge=people["judge"],
        secretary=people["secretary"],
        scheduled_at=timezone.now() + timedelta(minutes=1),
        participants=[
            {"name": "Дәулет Ғалымұлы Үсенов", "role": "истец"},
            {"name": "ТОО «Қазақ Құрылыс»", "role": "ответчик"},
        ],
    )
    return DemoWorld(
        admin=admin,
        court=court,
        courtroom=courtroom,
        secretary=people["secretary"],
        judge=people["judge"],
        case=case,
        hearing=hearing,
    )
