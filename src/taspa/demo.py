"""The demo court: one district court, its people and a demo courtroom (``taspa demo``)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from django.conf import settings
from django.utils import timezone

from taspa.courts import actions
from taspa.courts.actions import RoleGrant
from taspa.courts.models import Case, Court, Courtroom, Hearing, User

DEMO_PASSWORD = "demo"  # noqa: S105 — printed to the operator; demo data only
DEMO_COURT = "almaty-bostandyk"

DEMO_COURT_NAME = "Алматы қаласы Бостандық аудандық соты"
# The demo case is heard in Kazakh (its language is "kk"): the judge speaks Kazakh.
DEMO_SPEECH = (
    "Сот отырысы ашық деп жарияланады. Үсеновтің Қазақ Құрылыс жауапкершілігі шектеулі "
    "серіктестігіне қарызды өндіріп алу туралы талап қоюы бойынша азаматтық іс қаралады. "
    "Хатшы, іске қатысушы адамдардың келуі туралы баяндаңыз."
)


def demo_sources(home: Path) -> list[dict[str, str]]:
    """The synthetic courtroom: a Kazakh voice (espeak-ng, made once) looped and mixed with a
    quiet tone on the judge's microphone, and a tone alone on the parties' microphone."""
    speech = Path(home) / "demo" / "speech-kk.wav"
    if not speech.exists():
        speech.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["espeak-ng", "-v", "kk", "-s", "150", "-w", str(speech), DEMO_SPEECH],
            check=True,
            capture_output=True,
            timeout=60,
        )
    # amovie restarts its clock at every loop; stamping the loop from its sample count inside
    # the generated graph keeps its timestamps rising (and -re pacing it) for ever (R19).
    judge = (
        f"amovie=filename={speech}:loop=0,asetpts=N/SR/TB,aresample=48000,"
        "aformat=channel_layouts=mono[s];"
        "sine=frequency=440:sample_rate=48000,volume=0.05[t];[s][t]amix=inputs=2[out0]"
    )
    return [
        {
            "kind": "audio",
            "format": "lavfi",
            "input": judge,
            "label": "Судья",
        },  # the same word in Kazakh
        {
            "kind": "audio",
            "format": "lavfi",
            "input": "sine=frequency=660:sample_rate=48000,volume=0.2",
            "label": "Тараптар",
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
        name=DEMO_COURT_NAME,
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
    sources = demo_sources(settings.TASPA_HOME)
    courtroom = Courtroom.objects.filter(court=court, name="Зал №1").first() or (
        actions.create_courtroom(actor=admin, court=court, name="Зал №1", sources=sources)
    )
    if courtroom.sources != sources:  # a ./var made by an older demo: its looped source jumped
        courtroom = actions.change_courtroom_sources(
            actor=admin, courtroom=courtroom, sources=sources
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
            {"name": "Дәулет Ғалымұлы Үсенов", "role": "талапкер"},
            {"name": "«Қазақ Құрылыс» ЖШС", "role": "жауапкер"},
        ],
    )
    _link_participant(admin, case, hearing, people["participant"])
    return DemoWorld(
        admin=admin,
        court=court,
        courtroom=courtroom,
        secretary=people["secretary"],
        judge=people["judge"],
        case=case,
        hearing=hearing,
    )


def _link_participant(admin: User, case: Case, hearing: Hearing, person: User) -> None:
    """The court links the plaintiff's account to the case, so the portal shows it (R28)."""
    from taspa.access.actions import link_case_party

    link_case_party(actor=admin, case=case, user=person, role="participant")
    hearing.participants.filter(name=person.full_name).update(user=person)


def install_demo_keys(world: DemoWorld) -> Path:
    """A demo CA (made once, its certificate becomes the trust anchor) and the secretary's
    PKCS#12 EDS key registered as an administrator would (R14)."""
    from taspa.sealing import democa
    from taspa.sealing.actions import current_key, register_signing_key

    anchors = Path(settings.TASPA_HOME) / "trust-anchors.pem"
    ca_key = Path(settings.TASPA_HOME) / "demo" / "ca.p12"
    if not anchors.exists():
        ca = democa.create_ca("Taspa Demo Root CA")
        anchors.write_bytes(ca.pem)
        ca_key.write_bytes(
            pkcs12.serialize_key_and_certificates(
                name=b"demo-ca",
                key=ca.key,
                cert=ca.certificate,
                cas=None,
                encryption_algorithm=BestAvailableEncryption(DEMO_PASSWORD.encode()),
            )
        )
        ca_key.chmod(0o600)
    settings.TASPA_TRUST_ANCHORS = str(anchors)
    if current_key(world.secretary) is None:
        key, cert, _ = pkcs12.load_key_and_certificates(ca_key.read_bytes(), DEMO_PASSWORD.encode())
        ca = democa.DemoCA(key=key, certificate=cert)
        p12 = democa.issue_p12(ca, common_name=world.secretary.full_name, password=DEMO_PASSWORD)
        register_signing_key(
            actor=world.admin, user=world.secretary, p12=p12, password=DEMO_PASSWORD
        )
    return anchors


def record_demo_hearing(world: DemoWorld, *, seconds: float = 6.0, log=print):
    """R6–R14 in miniature: start, speaker marks, one recess, stop, seal."""
    from taspa.recorder import actions as recorder

    secretary, pk = world.secretary, world.hearing.pk

    def hearing() -> Hearing:
        return Hearing.objects.get(pk=pk)  # each action reads the hearing's current state

    checked = recorder.run_preflight(actor=secretary, hearing=hearing())  # R8 before the start
    override = "" if checked.ok else "Demo: equipment check failed; recording anyway (R8)."
    recorder.start_recording(actor=secretary, hearing=hearing(), override_reason=override)
    log("Recording the demo hearing…")
    time.sleep(seconds / 3)
    recorder.add_mark(
        actor=secretary, hearing=hearing(), speaker=str(world.judge), role="судья"
    )  # Kazakh as well
    time.sleep(seconds / 3)
    recorder.pause_recording(actor=secretary, hearing=hearing(), reason="recess")
    time.sleep(1.0)
    recorder.resume_recording(actor=secretary, hearing=hearing())
    recorder.add_mark(
        actor=secretary, hearing=hearing(), speaker="Дәулет Ғалымұлы Үсенов", role="талапкер"
    )
    time.sleep(seconds / 3)
    return recorder.stop_recording(actor=secretary, hearing=hearing())
