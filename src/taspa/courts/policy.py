"""Pure rules of the courts area: roles, case kinds, instances and R3–R5 (no Django here)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Role(enum.StrEnum):
    SECRETARY = "secretary"
    JUDGE = "judge"
    COURT_ADMIN = "court_admin"
    REGIONAL_STAFF = "regional_staff"
    REGIONAL_HEAD = "regional_head"
    ARCHIVIST = "archivist"
    PARTICIPANT = "participant"
    REPRESENTATIVE = "representative"
    SYSTEM_ADMIN = "system_admin"


# Staff of a regional judicial administration see every court of their region (R9, R18, R23).
REGIONAL_ROLES = frozenset({Role.REGIONAL_STAFF, Role.REGIONAL_HEAD})
# Staff of one court see only that court.
COURT_STAFF_ROLES = frozenset({Role.SECRETARY, Role.JUDGE, Role.COURT_ADMIN, Role.ARCHIVIST})
# Participants and representatives see only the hearings they take part in.
PARTY_ROLES = frozenset({Role.PARTICIPANT, Role.REPRESENTATIVE})


class Action(enum.StrEnum):
    """What a user may ask of Taspa; the permission layer maps each to the roles below."""

    MANAGE_COURTS = "manage_courts"
    MANAGE_USERS = "manage_users"
    MANAGE_COURTROOMS = "manage_courtrooms"
    REGISTER_CASE = "register_case"
    SCHEDULE_HEARING = "schedule_hearing"
    VIEW_HEARING = "view_hearing"
    VERIFY_AUDIT = "verify_audit"
    OPERATE_RECORDER = "operate_recorder"  # R7: only the hearing's secretary (or stand-in)
    HANDLE_PETITIONS = "handle_petitions"  # R28–R35: court staff register and fulfil petitions
    MANAGE_RETENTION = "manage_retention"  # R24: judgment date, legal hold


# The one table of who may do what, within the scope of their court (or region).
ROLES_FOR_ACTION: Mapping[Action, frozenset[Role]] = {
    Action.MANAGE_COURTS: frozenset({Role.SYSTEM_ADMIN}),
    Action.MANAGE_USERS: frozenset({Role.SYSTEM_ADMIN, Role.COURT_ADMIN}),
    Action.MANAGE_COURTROOMS: frozenset({Role.SYSTEM_ADMIN, Role.COURT_ADMIN}),
    Action.REGISTER_CASE: frozenset(
        {Role.SYSTEM_ADMIN, Role.COURT_ADMIN, Role.SECRETARY, Role.JUDGE}
    ),
    Action.SCHEDULE_HEARING: frozenset(
        {Role.SYSTEM_ADMIN, Role.COURT_ADMIN, Role.SECRETARY, Role.JUDGE}
    ),
    Action.VIEW_HEARING: frozenset(
        {
            Role.SYSTEM_ADMIN,
            Role.COURT_ADMIN,
            Role.SECRETARY,
            Role.JUDGE,
            Role.ARCHIVIST,
            Role.REGIONAL_STAFF,
            Role.REGIONAL_HEAD,
            Role.PARTICIPANT,
            Role.REPRESENTATIVE,
        }
    ),
    Action.VERIFY_AUDIT: frozenset({Role.SYSTEM_ADMIN, Role.COURT_ADMIN}),
    # R7: the secretary operates the recorder; the permission layer further narrows this to the
    # hearing's own secretary or the stand-in the court administrator assigned.
    Action.OPERATE_RECORDER: frozenset({Role.SECRETARY}),
    # R24: the date the judgment took legal effect starts the retention clock; a legal hold
    # (e.g. a new review of the case) suspends deletion. Court staff who hold the case file.
    Action.MANAGE_RETENTION: frozenset(
        {Role.SYSTEM_ADMIN, Role.COURT_ADMIN, Role.JUDGE, Role.ARCHIVIST}
    ),
    # R28–R35: court staff register paper petitions, fulfil them and record receipts.
    Action.HANDLE_PETITIONS: frozenset(
        {Role.SYSTEM_ADMIN, Role.COURT_ADMIN, Role.SECRETARY, Role.JUDGE}
    ),
}

# Roles a court administrator may hand out inside their own court; the rest need a system admin.
ROLES_A_COURT_ADMIN_GRANTS = frozenset(
    {Role.SECRETARY, Role.JUDGE, Role.ARCHIVIST, Role.PARTICIPANT, Role.REPRESENTATIVE}
)


class CourtLevel(enum.StrEnum):
    DISTRICT = "district"  # district and equated courts: first instance
    REGIONAL = "regional"  # regional and equated courts: appeal
    CASSATION = "cassation"
    SUPREME = "supreme"


class CaseKind(enum.StrEnum):
    CRIMINAL = "criminal"
    CIVIL = "civil"
    ADMINISTRATIVE = "administrative"
    ADMIN_OFFENCE = "admin_offence"
    DISCIPLINARY = "disciplinary"


class Instance(enum.StrEnum):
    FIRST = "first"
    APPEAL = "appeal"
    CASSATION = "cassation"
    SUPREME = "supreme"


class Requirement(enum.StrEnum):
    REQUIRED = "required"
    NOT_REQUIRED = "not_required"
    JUDGE_DECIDES = "judge_decides"


# The contract's names of the facts R3–R4 depend on; any other key is refused.
CIRCUMSTANCES = (
    "writ_proceedings",
    "simplified_written_proceedings",
    "guilt_fully_admitted",
    "evidence_examination_requested",
    "equipment_unavailable",
    "all_participants_absent",
    "no_new_evidence",
    "preparation_stage",
    "minutes_requested",
    "decision_on_merits_at_preparation",
    "first_instance_rules",
    "new_evidence_examined",
    "persons_questioned",
    "additional_materials_examined",
    "court_initiative",
    "person_motion",
)


def unknown_circumstances(circumstances: Mapping[str, object]) -> list[str]:
    """Names in ``circumstances`` that the contract does not define."""
    return sorted(set(circumstances) - set(CIRCUMSTANCES))


@dataclass(frozen=True)
class RecordingDecision:
    requirement: Requirement
    rule: str
    explanation_ru: str
    explanation_en: str
    # Kazakh, the state language; shown on the pages (the API keeps the Russian and English).
    explanation_kk: str = ""

    def explanation(self, language: str) -> str:
        """The explanation in ``language`` (kk, ru or en); Russian, the original, otherwise."""
        texts = {"kk": self.explanation_kk, "en": self.explanation_en}
        return texts.get(language) or self.explanation_ru


def _decide(requirement: Requirement, rule: str, ru: str, en: str) -> RecordingDecision:
    return RecordingDecision(requirement, rule, ru, en, KAZAKH_EXPLANATIONS.get(en, ""))


def recording_requirement(
    *, instance: Instance, kind: CaseKind, circumstances: Mapping[str, bool]
) -> RecordingDecision:
    """Whether a hearing must be recorded, under clauses 3–5 of the Rules.

    R5 is read as the Rules word it: cassation and the Supreme Court keep no minutes, but their
    hearings are still recorded and the recordings serve the purposes of R2.
    """
    facts = {name: bool(circumstances.get(name, False)) for name in CIRCUMSTANCES}
    if instance in (Instance.CASSATION, Instance.SUPREME):
        return _decide(
            Requirement.REQUIRED,
            "R5",
            "В кассационной инстанции и Верховном Суде протокол не ведётся; аудио-, видеозапись "
            "используется в целях пункта 2 Правил.",
            "Cassation and the Supreme Court keep no minutes; the recording is made and serves "
            "the purposes of clause 2.",
        )
    if instance == Instance.APPEAL:
        return _appeal_requirement(kind, facts)
    return _first_instance_requirement(kind, facts)


def _first_instance_requirement(kind: CaseKind, facts: Mapping[str, bool]) -> RecordingDecision:
    if facts["equipment_unavailable"]:
        return _decide(
            Requirement.NOT_REQUIRED,
            "R3.3",
            "Оборудование неисправно, отсутствует или не может быть применено по техническим "
            "причинам; причина отражается в протоколе (п. 9).",
            "The equipment is faulty, absent or cannot be used; the reason goes into the minutes "
            "(clause 9).",
        )
    if kind == CaseKind.CIVIL and (
        facts["writ_proceedings"] or facts["simplified_written_proceedings"]
    ):
        return _decide(
            Requirement.NOT_REQUIRED,
            "R3.1",
            "Гражданское дело рассматривается без вызова сторон (приказное, упрощённое "
            "(письменное) производство).",
            "A civil case heard without summoning the parties (writ or simplified written "
            "proceedings).",
        )
    if (
        kind == CaseKind.ADMIN_OFFENCE
        and facts["guilt_fully_admitted"]
        and not facts["evidence_examination_requested"]
    ):
        return _decide(
            Requirement.NOT_REQUIRED,
            "R3.2",
            "Лицо полностью признаёт вину и не заявляет о необходимости исследовать "
            "доказательства.",
            "The person fully admits guilt and does not ask for evidence to be examined.",
        )
    if kind == CaseKind.CIVIL and facts["preparation_stage"]:
        if (
            facts["minutes_requested"]
            or facts["court_initiative"]
            or facts["decision_on_merits_at_preparation"]
        ):
            return _decide(
                Requirement.REQUIRED,
                "R3.5",
                "Подготовка гражданского дела: протокол ведётся по ходатайству сторон, по "
                "инициативе суда или при вынесении решения по существу на этой стадии.",
                "Preparation of a civil case: minutes are kept on a party's motion, on the court's "
                "initiative, or because a decision on the merits is issued at this stage.",
            )
        return _decide(
            Requirement.NOT_REQUIRED,
            "R3.5",
            "Подготовка гражданского дела без ходатайства, инициативы суда и решения по существу.",
            "Preparation of a civil case with no motion, no court initiative and no decision on "
            "the merits.",
        )
    if kind == CaseKind.CIVIL and (facts["all_participants_absent"] or facts["no_new_evidence"]):
        return _decide(
            Requirement.JUDGE_DECIDES,
            "R3.4",
            "Неявка всех лиц, участвующих в гражданском деле, или заседание без исследования "
            "новых доказательств: вопрос о ведении протокола разрешается судьёй.",
            "Nobody in the civil case appeared, or no new evidence is examined: the judge decides "
            "whether minutes are kept.",
        )
    return _decide(
        Requirement.REQUIRED,
        "R3",
        "Каждое судебное заседание суда первой инстанции записывается.",
        "Every first-instance hearing is recorded.",
    )


def _appeal_requirement(kind: CaseKind, facts: Mapping[str, bool]) -> RecordingDecision:
    if kind == CaseKind.CIVIL and facts["first_instance_rules"] and facts["new_evidence_examined"]:
        decision = _decide(
            Requirement.REQUIRED,
            "R4.1",
            "Апелляция по гражданскому делу по правилам первой инстанции с исследованием новых "
            "доказательств (ч. 2 ст. 413, ч. 4 ст. 420 ГПК).",
            "Civil appeal heard under first-instance rules with new evidence examined.",
        )
    elif kind == CaseKind.CRIMINAL and (
        facts["new_evidence_examined"] or facts["persons_questioned"]
    ):
        decision = _decide(
            Requirement.REQUIRED,
            "R4.2",
            "Апелляция по уголовному делу: исследуются новые доказательства или допрашиваются "
            "осуждённый (оправданный), свидетель, потерпевший, эксперт, специалист и другие лица.",
            "Criminal appeal examining new evidence or questioning the convicted/acquitted person, "
            "a witness, victim, expert, specialist or others.",
        )
    elif (
        kind == CaseKind.ADMIN_OFFENCE
        and facts["first_instance_rules"]
        and (
            facts["additional_materials_examined"]
            or facts["persons_questioned"]
            or facts["court_initiative"]
            or facts["person_motion"]
        )
    ):
        decision = _decide(
            Requirement.REQUIRED,
            "R4.3",
            "Апелляция по делу об административном правонарушении по правилам первой инстанции: "
            "дополнительные материалы, заключения экспертов, допрос, инициатива суда или "
            "ходатайство лица.",
            "Administrative-offence appeal under first-instance rules examining additional "
            "materials or expert findings, questioning persons, or on the court's initiative or "
            "the person's motion.",
        )
    else:
        return _decide(
            Requirement.NOT_REQUIRED,
            "R4",
            "В апелляционной инстанции запись ведётся только в случаях пункта 4 Правил.",
            "An appeal hearing is recorded only in the cases of clause 4.",
        )
    if facts["equipment_unavailable"]:
        clause = decision.rule[1:]
        return RecordingDecision(
            Requirement.NOT_REQUIRED,
            "R3.3",
            f"Запись требовалась (п. {clause}), но оборудование неисправно, отсутствует или не "
            "может быть применено; причина отражается в протоколе (п. 9).",
            f"Recording was required (clause {clause}) but the equipment is faulty, absent or "
            "cannot be used; the reason goes into the minutes (clause 9).",
            f"Аудио-, бейнежазба қажет еді ({clause}-тармақ), бірақ жабдық ақаулы, жоқ немесе "
            "қолданылмайды; себебі хаттамада көрсетіледі (9-тармақ).",
        )
    return decision


# The explanations above in Kazakh, by their English text (the appeal's "required, but the
# equipment is faulty" case is built in _appeal_requirement).
KAZAKH_EXPLANATIONS: Mapping[str, str] = {
    "Cassation and the Supreme Court keep no minutes; the recording is made and serves "
    "the purposes of clause 2.": "Кассациялық сатыда және Жоғарғы Сотта хаттама жүргізілмейді; "
    "аудио-, бейнежазба Қағидалардың 2-тармағында көзделген мақсаттарда пайдаланылады.",
    "The equipment is faulty, absent or cannot be used; the reason goes into the minutes "
    "(clause 9).": "Жабдық ақаулы, жоқ немесе техникалық себептермен қолданылмайды; себебі "
    "хаттамада көрсетіледі (9-тармақ).",
    "A civil case heard without summoning the parties (writ or simplified written "
    "proceedings).": "Азаматтық іс тараптарды шақырмай қаралады (бұйрықтық, оңайлатылған "
    "(жазбаша) іс жүргізу).",
    "The person fully admits guilt and does not ask for evidence to be examined.": "Адам "
    "кінәсін толық мойындайды және дәлелдемелерді зерттеу қажеттігін мәлімдемейді.",
    "Preparation of a civil case: minutes are kept on a party's motion, on the court's "
    "initiative, or because a decision on the merits is issued at this stage.": "Азаматтық "
    "істі дайындау: хаттама тараптардың өтінішхаты бойынша, соттың бастамасымен немесе осы "
    "сатыда іс бойынша шешім шығарылған кезде жүргізіледі.",
    "Preparation of a civil case with no motion, no court initiative and no decision on "
    "the merits.": "Өтінішхатсыз, сот бастамасынсыз және іс бойынша шешімсіз азаматтық істі "
    "дайындау.",
    "Nobody in the civil case appeared, or no new evidence is examined: the judge decides "
    "whether minutes are kept.": "Азаматтық іске қатысушы адамдардың ешқайсысы келмеді немесе "
    "жаңа дәлелдемелер зерттелмейді: хаттама жүргізу мәселесін судья шешеді.",
    "Every first-instance hearing is recorded.": "Бірінші сатыдағы соттың әрбір сот отырысы "
    "жазылады.",
    "Civil appeal heard under first-instance rules with new evidence examined.": "Азаматтық "
    "іс бойынша апелляция бірінші сатының қағидалары бойынша жаңа дәлелдемелерді зерттей "
    "отырып қаралады (АПК 413-бабының 2-бөлігі, 420-бабының 4-бөлігі).",
    "Criminal appeal examining new evidence or questioning the convicted/acquitted person, "
    "a witness, victim, expert, specialist or others.": "Қылмыстық іс бойынша апелляция: жаңа "
    "дәлелдемелер зерттеледі немесе сотталған (ақталған) адам, куә, жәбірленуші, сарапшы, "
    "маман және басқа адамдар жауап алынады.",
    "Administrative-offence appeal under first-instance rules examining additional "
    "materials or expert findings, questioning persons, or on the court's initiative or "
    "the person's motion.": "Әкімшілік құқық бұзушылық туралы іс бойынша апелляция бірінші "
    "сатының қағидалары бойынша: қосымша материалдар, сарапшылардың қорытындылары, жауап алу, "
    "соттың бастамасы немесе адамның өтінішхаты.",
    "An appeal hearing is recorded only in the cases of clause 4.": "Апелляциялық сатыда "
    "аудио-, бейнежазба тек Қағидалардың 4-тармағында көзделген жағдайларда жүргізіледі.",
}


def instance_matches_court(instance: Instance, level: CourtLevel) -> bool:
    """A district court holds first-instance hearings, a regional court appeals (and first
    instance in the cases the codes give it), cassation and Supreme courts their own."""
    allowed = {
        CourtLevel.DISTRICT: {Instance.FIRST},
        CourtLevel.REGIONAL: {Instance.FIRST, Instance.APPEAL},
        CourtLevel.CASSATION: {Instance.CASSATION},
        CourtLevel.SUPREME: {Instance.SUPREME, Instance.CASSATION},
    }
    return instance in allowed[level]


SOURCE_KINDS = ("audio", "video")
# ffmpeg input formats an administrator may configure for a courtroom (R20: nothing else runs).
SOURCE_FORMATS = ("alsa", "pulse", "rtsp", "lavfi", "file", "v4l2")


def gettext_noop(message: str) -> str:
    """Marks ``message`` for the catalogues (``makemessages``); it is translated when shown."""
    return message


@dataclass(frozen=True)
class SourceProblem:
    """One thing wrong with a capture source: an English msgid and its named values, read in
    the language active where it is shown (like a refusal's ``detail``, see ``taspa.errors``)."""

    message: str
    params: Mapping[str, object]

    def __str__(self) -> str:
        from taspa.errors import translated

        return translated(self.message, self.params)


class SourceProblems(list[SourceProblem]):
    """The problems of a source list; ``str()`` is all of them in the active language."""

    def __str__(self) -> str:
        return "; ".join(str(problem) for problem in self)


def source_problems(sources: object) -> SourceProblems:
    """What is wrong with a courtroom's capture-source list; empty when it is usable."""
    if not isinstance(sources, list):
        return SourceProblems([SourceProblem(gettext_noop("The sources must be a list."), {})])
    problems = SourceProblems()
    for index, source in enumerate(sources):
        number = {"number": index + 1}
        if not isinstance(source, dict):
            problems.append(
                SourceProblem(gettext_noop("Source %(number)s is not described correctly."), number)
            )
            continue
        if source.get("kind") not in SOURCE_KINDS:
            problems.append(
                SourceProblem(
                    gettext_noop("Source %(number)s: its kind must be sound or video."), number
                )
            )
        if not isinstance(source.get("input"), str) or not source["input"].strip():
            problems.append(
                SourceProblem(gettext_noop("Source %(number)s: its input is empty."), number)
            )
        fmt = source.get("format")
        if fmt is not None and fmt not in SOURCE_FORMATS:
            problems.append(
                SourceProblem(
                    gettext_noop("Source %(number)s: it cannot be read in the way given."), number
                )
            )
    return problems
