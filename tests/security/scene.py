"""A scene for the security suite: one court's worth of every kind of object, owned by court A,
and the people (and machines) who ask for them from inside and outside that court.

Everything targeted lives in court A (region Almaty). The actors are every role of court A
("own"), of court B in the same region ("region") and of court Z in another region ("other"),
the system administrator, a participant the court linked to the case, a participant linked to
another case, anonymous callers, and the recorder agents of court A's and court Z's courtrooms.
Expensive things (sealing, PDFs, copy packages) are made once per session or by the ORM.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import zipfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.test import Client
from django.utils import timezone

from replication.sealed_factory import Pki, register_key, sealed_recording
from taspa.access.actions import link_case_party
from taspa.access.copies import copies_dir
from taspa.access.models import Copy, Petition, ReviewSlot
from taspa.api.actions import issue_token
from taspa.courts import actions as court_actions
from taspa.courts.actions import RoleGrant
from taspa.courts.models import Case, Hearing, User
from taspa.courts.policy import Role
from taspa.custody.models import DestructionAct, Handover, Medium
from taspa.incidents.actions import notify_court_admins, open_incident
from taspa.incidents.models import Act, Incident, Notification
from taspa.recorder import remote
from taspa.recorder.models import Mark, Recording
from taspa.web.playback import PlaybackFiles

RELATIONS = {"own": "a", "region": "b", "other": "z"}
STAFF_ROLES = [r.value for r in Role if r not in (Role.SYSTEM_ADMIN,)]
HUMANS = [f"{role}@{rel}" for role in STAFF_ROLES for rel in RELATIONS] + [
    "system_admin",
    "party",
    "other_party",
]
AGENTS = ["agent@own", "agent@other"]
ACTORS = [*HUMANS, "anonymous", *AGENTS]


def make_blank_pdf() -> bytes:
    """A real (one blank page) PDF, so an act can be PAdES-signed without rendering one."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class Scene:
    world: object
    home: Path
    court: object
    room: object
    case: Case  # the case of both hearings below; ``party`` is linked to it
    hearing: Hearing  # idle, for the recorder's operations
    sealed_hearing: Hearing  # its recording is sealed
    recording: Recording
    other_case: Case  # ``other_party`` is linked to this one
    mark: Mark
    incident: Incident
    notification: Notification
    act: Act
    medium: Medium  # with the secretary
    handed_medium: Medium  # handed over to the archivist
    destruction_act: DestructionAct
    review_petition: Petition  # open, applicant: party, a review booked
    open_petition: Petition  # open, applicant: party, nothing booked yet
    unanswered_petition: Petition  # open copy petition on paper, to be answered with a refusal
    copy_petition: Petition  # fulfilled, applicant: party, with a copy
    copy: Copy
    users: dict[str, User] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    counter: itertools.count = field(default_factory=itertools.count)

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.counter)}"

    def user(self, actor: str) -> User | None:
        return self.users.get(actor)

    def api(self, actor: str) -> Client:
        """A client whose every request carries the actor's bearer token (none: anonymous)."""
        token = self.tokens.get(actor)
        if token is None:
            return Client()
        return Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def web(self, actor: str, **client_kwargs) -> Client:
        """A client signed in (session) as the actor; anonymous and agents are not signed in."""
        client = Client(**client_kwargs)
        user = self.users.get(actor)
        if user is not None:
            client.force_login(user)
        return client


def _people(world, scene_users: dict[str, User]) -> None:
    for role in STAFF_ROLES:
        for rel, court in RELATIONS.items():
            scene_users[f"{role}@{rel}"] = world.person(role, court)
    scene_users["system_admin"] = world.admin
    for name in ("party", "other_party"):
        scene_users[name] = court_actions.create_user(
            actor=world.admin,
            username=name,
            full_name=f"{name} of court A",
            roles=[RoleGrant(role=Role.PARTICIPANT.value, court=world.courts["a"])],
            password="pw",
        )


def _second_hearing(world, case: Case) -> Hearing:
    return court_actions.schedule_hearing(
        actor=world.admin,
        case=case,
        courtroom=world.rooms["a"],
        instance="first",
        closed=False,
        judge=world.person("judge"),
        secretary=world.person("secretary"),
        scheduled_at=timezone.now(),
        participants=[{"name": "Әсел Үмбетова", "role": "plaintiff"}],
        circumstances={},
    )


def _medium(recording: Recording, holder: User, state: str) -> Medium:
    now = timezone.now()
    return Medium.objects.create(
        recording=recording,
        case=recording.hearing.case,
        state=state,
        valid=False,
        mount_path="/media/usb0",
        bag_name=f"{recording.file_name}.bag",
        written_by=holder,
        started_at=now,
        written_at=now,
        holder=holder,
        holder_since=now,
    )


def _copy(world, recording: Recording, party: User) -> tuple[Petition, Copy]:
    today = timezone.localdate()
    petition = Petition.objects.create(
        hearing=recording.hearing,
        kind="copy",
        channel=Petition.Channel.PAPER,
        applicant_name="Әсел Үмбетова",
        applicant_role="participant",
        applicant_user=party,
        delivery="online",
        received_at=today,
        due_date=today + timedelta(days=7),
        media="audio",
        form="appendix2",
        rule="R31",
        personal_data_warning_acknowledged=True,
        registered_by=world.person("secretary"),
        state=Petition.State.FULFILLED,
        fulfilled_at=timezone.now(),
    )
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("bagit.txt", "BagIt-Version: 0.97\n")
    body = data.getvalue()
    name = f"copy_court-a_p{petition.pk}.zip"
    copies_dir().mkdir(parents=True, exist_ok=True)
    (copies_dir() / name).write_bytes(body)
    now = timezone.now()
    copy = Copy.objects.create(
        petition=petition,
        media="audio",
        file_name=name,
        digest=hashlib.sha256(body).hexdigest(),
        bytes=len(body),
        media_sha256="0" * 64,
        signer_subject="CN=test",
        made_by=world.person("secretary"),
        made_at=now,
        expires_at=now + timedelta(days=30),
    )
    return petition, copy


def build_scene(world, settings, tmp_path: Path, security_pki: Pki, blank_pdf: bytes) -> Scene:
    """Court A's objects of every kind, and the actors with their tokens (see the module)."""
    home = tmp_path / "home"
    home.mkdir()
    settings.TASPA_HOME = home
    settings.TASPA_STORAGE = f"file://{tmp_path / 'blobs'}"
    settings.TASPA_TRUST_ANCHORS = str(security_pki.anchors)
    settings.TASPA_ROLE = "court"
    settings.TASPA_SPOOL = home / "spool-server"
    settings.TASPA_MEDIUM_ROOTS = [str(tmp_path / "mnt")]
    register_key(world, security_pki, "a")
    users: dict[str, User] = {}
    _people(world, users)
    secretary, admin = world.person("secretary"), world.admin

    recording = sealed_recording(world, home / "spool", size=4096, court="a", kind="civil")
    sealed = recording.hearing
    case = sealed.case
    hearing = _second_hearing(world, case)
    other_case = world.hearing("a").case
    link_case_party(actor=admin, case=case, user=users["party"], role="participant")
    link_case_party(actor=admin, case=other_case, user=users["other_party"], role="participant")

    tokens = {actor: issue_token(actor=None, user=user) for actor, user in users.items()}
    tokens["agent@own"] = remote.register_agent(actor=None, courtroom=world.rooms["a"])
    tokens["agent@other"] = remote.register_agent(actor=None, courtroom=world.rooms["z"])

    mark = Mark.objects.create(
        recording=recording,
        speaker="Судья",
        role="judge",
        offset_s=1.0,
        at=recording.started_at + timedelta(seconds=1),
        created_by=secretary,
    )
    incident = open_incident(
        actor=None, hearing=hearing, kind="recording_impossible", detail="microphone dead"
    )
    notify_court_admins(hearing=hearing)
    notification = Notification.objects.get(recipient=world.person("court_admin"))
    act_incident = open_incident(
        actor=None, hearing=sealed, kind="recording_impossible", detail="no power"
    )
    today = timezone.localdate()
    act = Act.objects.create(
        court=world.courts["a"],
        year=today.year,
        number=1,
        date=today,
        hearing=sealed,
        required_roles=["secretary", "court_admin"],
        pdf_kk=blank_pdf,
        pdf_ru=blank_pdf,
        created_at=timezone.now(),
        created_by=secretary,
    )
    act.incidents.set([act_incident])

    medium = _medium(recording, secretary, "with_secretary")
    handed = _medium(recording, secretary, "handed_over")
    Handover.objects.create(
        medium=handed,
        from_user=secretary,
        to_user=world.person("archivist"),
        handed_at=timezone.now(),
    )
    destruction = DestructionAct.objects.create(
        court=world.courts["a"],
        year=today.year,
        number=1,
        date=today,
        created_by=world.person("archivist"),
        created_at=timezone.now(),
        pdf_kk=blank_pdf,
        pdf_ru=blank_pdf,
        required_roles=["archivist", "court_admin"],  # R26
    )
    review = Petition.objects.create(
        hearing=sealed,
        kind="review",
        channel=Petition.Channel.PAPER,
        applicant_name="Әсел Үмбетова",
        applicant_role="participant",
        applicant_user=users["party"],
        delivery="online",
        received_at=today,
        due_date=today + timedelta(days=7),
        rule="R28",
        registered_by=secretary,
    )
    ReviewSlot.objects.create(
        petition=review,
        starts_at=timezone.now() + timedelta(days=1),
        place="Court A: review station",
        booked_by=secretary,
    )
    copy_petition, copy = _copy(world, recording, users["party"])
    open_petition = Petition.objects.create(
        hearing=sealed,
        kind="review",
        channel=Petition.Channel.ONLINE,
        applicant_name="Әсел Үмбетова",
        applicant_role="participant",
        applicant_user=users["party"],
        delivery="online",
        received_at=today,
        due_date=today + timedelta(days=7),
        rule="R28",
        registered_by=users["party"],
    )
    unanswered = Petition.objects.create(
        hearing=sealed,
        kind="copy",
        channel=Petition.Channel.PAPER,
        applicant_name="Әсел Үмбетова",
        applicant_role="participant",
        applicant_user=users["party"],
        delivery="online",
        received_at=today,
        due_date=today + timedelta(days=5),
        rule="R30",
        registered_by=secretary,
    )

    peaks = PlaybackFiles.of(recording.pk).root
    peaks.mkdir(parents=True)
    (peaks / "peaks.json").write_text('{"version": 2, "data": []}', encoding="utf-8")
    (tmp_path / "mnt").mkdir()
    return Scene(
        world=world,
        home=home,
        court=world.courts["a"],
        room=world.rooms["a"],
        case=case,
        hearing=hearing,
        sealed_hearing=sealed,
        recording=recording,
        other_case=other_case,
        mark=mark,
        incident=incident,
        notification=notification,
        act=act,
        medium=medium,
        handed_medium=handed,
        destruction_act=destruction,
        review_petition=review,
        open_petition=open_petition,
        unanswered_petition=unanswered,
        copy_petition=copy_petition,
        copy=copy,
        users=users,
        tokens=tokens,
    )
