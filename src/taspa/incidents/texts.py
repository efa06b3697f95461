"""The wording of acts and notices, per language (pure: no Django).

An act is an official document: its wording is fixed text of the court, reviewed as a table in
both official languages, not interface chrome that a translator may change in a catalogue. So
it lives here, beside ``announcement_text`` (R16), and the document templates only lay it out.
Kazakh (the state language) first, then Russian; English for notices to English-speaking users.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("kk", "ru", "en")

KIND_TITLES: Mapping[str, Mapping[str, str]] = {
    "recording_impossible": {
        "kk": "Аудио-, бейнежазба жүргізу мүмкін емес",
        "ru": "Ведение аудио-, видеозаписи невозможно",
        "en": "Recording impossible",
    },
    "preflight_failed": {
        "kk": "Жабдықты тексеру сәтсіз аяқталды",
        "ru": "Проверка оборудования не пройдена",
        "en": "Equipment check failed",
    },
    "capture_gap": {
        "kk": "Жазбаның үзілуі",
        "ru": "Разрыв записи",
        "en": "Break in the record",
    },
    "source_lost": {
        "kk": "Дыбыс (бейне) көзі жоғалды",
        "ru": "Потерян источник звука (видео)",
        "en": "Capture source lost",
    },
    "disk_full": {
        "kk": "Дискіде орын жоқ",
        "ru": "Нет места на диске",
        "en": "Disk full",
    },
    "signing_failed": {
        "kk": "Жазбаға ЭЦҚ-сымен автоматты түрде қол қою мүмкін болмады",
        "ru": "Не удалось автоматически подписать запись ЭЦП",
        "en": "The recording could not be signed",
    },
    "fixity_failed": {
        "kk": "Сақталған жазба өзінің хэш-сомасына сәйкес келмейді",
        "ru": "Хранимая запись не совпадает со своей хеш-суммой",
        "en": "A stored recording no longer matches its hash",
    },
    "not_recorded": {
        "kk": "Сот отырысы іс жүзінде жазылмаған",
        "ru": "Судебное заседание фактически не записано",
        "en": "The hearing was not actually recorded",
    },
    "timestamp_fault": {
        "kk": "Жазба көзінің уақыт белгілері ретсіз келді",
        "ru": "Нарушен порядок временных меток источника записи",
        "en": "A capture source's timestamps were out of order",
    },
}

ROLE_TITLES: Mapping[str, Mapping[str, str]] = {
    "secretary": {
        "kk": "Сот отырысының хатшысы",
        "ru": "Секретарь судебного заседания",
        "en": "Secretary of the hearing",
    },
    "court_admin": {"kk": "Сот әкімшісі", "ru": "Администратор суда", "en": "Court administrator"},
    "regional_head": {
        "kk": "Сот әкімшілігі департаменті бөлімшесінің басшысы",
        "ru": "Руководитель подразделения департамента Судебной администрации",
        "en": "Head of the regional judicial administration unit",
    },
    "regional_staff": {
        "kk": "Сот әкімшілігі департаменті бөлімшесінің қызметкері",
        "ru": "Работник подразделения департамента Судебной администрации",
        "en": "Staff member of the regional judicial administration unit",
    },
}

INSTANCE_TITLES: Mapping[str, Mapping[str, str]] = {
    "first": {"kk": "бірінші саты", "ru": "первая инстанция", "en": "first instance"},
    "appeal": {"kk": "апелляциялық саты", "ru": "апелляционная инстанция", "en": "appeal"},
    "cassation": {"kk": "кассациялық саты", "ru": "кассационная инстанция", "en": "cassation"},
    "supreme": {"kk": "Жоғарғы Сот", "ru": "Верховный Суд", "en": "Supreme Court"},
}

# Labels of the act (R17, R18); ``subject_*`` is the line under the title.
ACT_LABELS: Mapping[str, Mapping[str, str]] = {
    "kk": {
        "title": "АКТ",
        "subject_impossible": "техникалық себептерге байланысты сот отырысының аудио-, "
        "бейнежазбасын жүргізу мүмкін болмағаны туралы",
        "subject_not_recorded": "сот отырысы іс жүзінде жазылмағаны туралы",
        "date": "Актінің күні",
        "court": "Сот",
        "case": "Іс нөмірі",
        "hearing": "Сот отырысы",
        "instance": "Сатысы",
        "judge": "Төрағалық етуші судья",
        "secretary": "Сот отырысының хатшысы",
        "recording": "Жазба",
        "no_recording": "жоқ",
        "intro": "Біз, төменде қол қойғандар, осы актіні төмендегілер туралы жасадық:",
        "time": "Уақыты",
        "what": "Не болды",
        "reason": "Себебі",
        "judge_told": "Судьяға хабарланды",
        "announced": "Қатысушыларға жарияланды",
        "span": "Жазылмаған аралық",
        "not_recorded_note": "Сот отырысының аудио-, бейнежазбасы іс жүзінде жүргізілмеген "
        "(Қағидалардың 17-тармағы).",
        "went_on": "Сот отырысы аудио-, бейнежазбасыз жалғасты (Қағидалардың 10-тармағы); "
        "себебі сот отырысының хаттамасында көрсетілді (Қағидалардың 9-тармағы).",
        "attached": "Акт сот отырысының хаттамасына қоса тіркеледі (Қағидалардың 18-тармағы).",
        "signatures": "Қолдар",
        "eds_note": "Актіге әрбір қол қоюшы өзінің ЭЦҚ-сымен қол қояды; актінің мемлекеттік және "
        "орыс тілдеріндегі екі данасына бірдей қол қойылады. Қолдарды «taspa verify» "
        "командасымен тексеруге болады.",
        "not_told": "—",
    },
    "ru": {
        "title": "АКТ",
        "subject_impossible": "о невозможности ведения аудио-, видеозаписи судебного "
        "заседания по техническим причинам",
        "subject_not_recorded": "о том, что судебное заседание фактически не было записано",
        "date": "Дата акта",
        "court": "Суд",
        "case": "Номер дела",
        "hearing": "Судебное заседание",
        "instance": "Инстанция",
        "judge": "Председательствующий судья",
        "secretary": "Секретарь судебного заседания",
        "recording": "Запись",
        "no_recording": "отсутствует",
        "intro": "Мы, нижеподписавшиеся, составили настоящий акт о нижеследующем:",
        "time": "Время",
        "what": "Что произошло",
        "reason": "Причина",
        "judge_told": "Судья извещён",
        "announced": "Участникам объявлено",
        "span": "Незаписанный промежуток",
        "not_recorded_note": "Аудио-, видеозапись судебного заседания фактически не была "
        "произведена (пункт 17 Правил).",
        "went_on": "Судебное заседание продолжено без аудио-, видеозаписи (пункт 10 Правил); "
        "причина отражена в протоколе судебного заседания (пункт 9 Правил).",
        "attached": "Акт приобщается к протоколу судебного заседания (пункт 18 Правил).",
        "signatures": "Подписи",
        "eds_note": "Акт подписывается ЭЦП каждого подписанта; подписываются оба экземпляра — "
        "на государственном и на русском языках. Подписи проверяются командой «taspa verify».",
        "not_told": "—",
    },
}


def kind_title(kind: str, language: str) -> str:
    return KIND_TITLES.get(kind, {}).get(language, kind)


def role_title(role: str, language: str) -> str:
    return ROLE_TITLES.get(role, {}).get(language, role)


def instance_title(instance: str, language: str) -> str:
    return INSTANCE_TITLES.get(instance, {}).get(language, instance)


# --- notices (inbox and e-mail) ------------------------------------------------------------------

_NOTICES: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    # R9: after the hearing the court administrator learns of the failure.
    "incident_to_admin": {
        "kk": {
            "subject": "Аудио-, бейнежазба ақауы: {case} іс, {date} отырыс",
            "body": "{court} соты, {case} іс, {date} сот отырысы.\n"
            "Не болды: {kind}.\nСебебі: {detail}\nУақыты: {at}.\n"
            "Судьяға хабарланды: {judge_told}. Қатысушыларға жарияланды: {announced}.\n\n"
            "Қағидалардың 9-тармағына сәйкес бұл хабарламаны Сот әкімшілігі департаментінің "
            "бөлімшесіне жіберіңіз (Taspa: «Жіберу»).",
        },
        "ru": {
            "subject": "Сбой аудио-, видеозаписи: дело {case}, заседание {date}",
            "body": "Суд: {court}, дело {case}, судебное заседание {date}.\n"
            "Что произошло: {kind}.\nПричина: {detail}\nВремя: {at}.\n"
            "Судья извещён: {judge_told}. Участникам объявлено: {announced}.\n\n"
            "Согласно пункту 9 Правил направьте это сообщение в подразделение департамента "
            "Судебной администрации (в Taspa: «Направить»).",
        },
        "en": {
            "subject": "Recording failure: case {case}, hearing of {date}",
            "body": "Court: {court}, case {case}, hearing of {date}.\n"
            "What happened: {kind}.\nReason: {detail}\nAt: {at}.\n"
            "Judge told: {judge_told}. Announced to the participants: {announced}.\n\n"
            "Under clause 9 of the Rules, forward this to the regional judicial administration "
            "(in Taspa: Forward).",
        },
    },
    # R9: the court administrator informs the regional judicial administration's staff.
    "incident_forwarded": {
        "kk": {
            "subject": "{court} сотының хабарламасы: {case} іс бойынша аудио-, бейнежазба ақауы",
            "body": "{court} сотының әкімшісі {sender} жіберді.\n"
            "Іс {case}, {date} сот отырысы.\nНе болды: {kind}.\nСебебі: {detail}\n"
            "Уақыты: {at}.\n{note}",
        },
        "ru": {
            "subject": "Сообщение суда {court}: сбой аудио-, видеозаписи по делу {case}",
            "body": "Направил администратор суда {court}: {sender}.\n"
            "Дело {case}, судебное заседание {date}.\nЧто произошло: {kind}.\n"
            "Причина: {detail}\nВремя: {at}.\n{note}",
        },
        "en": {
            "subject": "From {court}: recording failure in case {case}",
            "body": "Forwarded by the administrator of {court}: {sender}.\n"
            "Case {case}, hearing of {date}.\nWhat happened: {kind}.\nReason: {detail}\n"
            "At: {at}.\n{note}",
        },
    },
    # R17, R18: Taspa drew up the act by itself; each required signer is asked to sign it.
    "act_to_sign": {
        "kk": {
            "subject": "Қол қоюға акт № {act}: {case} іс, {date} отырыс",
            "body": "{court} соты, {case} іс, {date} сот отырысы.\n"
            "Не болды: {kind}.\nСебебі: {detail}\n\n"
            "Акт № {act} жасалды және сіздің ЭЦҚ-сымен қол қоюыңызды күтеді "
            "(Қағидалардың 17, 18-тармақтары).",
        },
        "ru": {
            "subject": "Акт № {act} на подпись: дело {case}, заседание {date}",
            "body": "Суд: {court}, дело {case}, судебное заседание {date}.\n"
            "Что произошло: {kind}.\nПричина: {detail}\n\n"
            "Составлен акт № {act}; он ожидает вашей подписи ЭЦП (пункты 17, 18 Правил).",
        },
        "en": {
            "subject": "Act No. {act} to sign: case {case}, hearing of {date}",
            "body": "Court: {court}, case {case}, hearing of {date}.\n"
            "What happened: {kind}.\nReason: {detail}\n\n"
            "Act No. {act} was drawn up and awaits your EDS signature (clauses 17, 18).",
        },
    },
    # R22, R21: the archivist accepted a case without the medium of some of its recordings.
    "media_missing": {
        "kk": {
            "subject": "Іс {case} архивке жазба жеткізгішінсіз қабылданды",
            "body": "{court} соты, іс {case}.\n"
            "Архивариус {archivist} істі {at} архивке қабылдады; мына жазбалардың "
            "жеткізгіші іс материалдарында жоқ:\n{files}\n\n"
            "Жеткізгішті тауып, архивке тапсырыңыз (Қағидалардың 21, 22-тармақтары).",
        },
        "ru": {
            "subject": "Дело {case} принято в архив без носителя записи",
            "body": "Суд: {court}, дело {case}.\n"
            "Архивариус {archivist} принял дело в архив {at}; носителя этих записей "
            "в материалах дела нет:\n{files}\n\n"
            "Найдите носитель и передайте его в архив (пункты 21, 22 Правил).",
        },
        "en": {
            "subject": "Case {case} accepted into the archive without a recording's medium",
            "body": "Court: {court}, case {case}.\n"
            "The archivist {archivist} accepted the case into the archive at {at}; the medium "
            "of these recordings is not in the case file:\n{files}\n\n"
            "Find the medium and hand it over to the archive (clauses 21, 22 of the Rules).",
        },
    },
}

NOTICE_KINDS = tuple(_NOTICES)


def notice(kind: str, language: str, facts: Mapping[str, str]) -> tuple[str, str]:
    """(subject, body) of a notice in ``language`` (English if it has no such text)."""
    text = _NOTICES[kind].get(language) or _NOTICES[kind]["en"]
    values = {key: facts.get(key, "") for key in _keys(text)}
    return text["subject"].format(**values), text["body"].format(**values).strip()


def _keys(text: Mapping[str, str]) -> set[str]:
    import string

    formatter = string.Formatter()
    return {
        name
        for template in text.values()
        for _, name, _, _ in formatter.parse(template)
        if name is not None
    }


# --- the minutes' text on a hearing that could not be recorded (R9, R13) -------------------------

# R9: «…с отражением причин неиспользования аудио-, видеозаписи в протоколе судебного
# заседания». One paragraph per incident, then the closing lines; the secretary copies them
# into the minutes (or attaches the document). Kazakh first, then Russian: two documents.
MINUTES_LABELS: Mapping[str, Mapping[str, str]] = {
    "kk": {
        "title": "Сот отырысының хаттамасына: аудио-, бейнежазбаны пайдаланбау себептері",
        "court": "Сот",
        "case": "Іс нөмірі",
        "hearing": "Сот отырысы",
        "judge": "Төрағалық етуші судья",
        "secretary": "Сот отырысының хатшысы",
        "not_used": "Сот отырысының аудио-, бейнежазбасы жүргізілмеді.",
        "part_not_used": "Сот отырысының аудио-, бейнежазбасы толық жүргізілмеді.",
        "reason": "{at} — {kind}. Себебі: {detail}",
        "judge_told": "Сот отырысының хатшысы бұл туралы судьяға {at} баяндады.",
        "judge_not_told": "Судьяға баяндалған уақыты жазылмаған.",
        "announced": "Сот талқылауына қатысушыларға {at} жарияланды.",
        "went_on": "Аудио-, бейнежазбаны пайдалану мүмкін болмауы сот отырысын жалғастыруға "
        "кедергі келтірмеді; сот отырысы жалғастырылды.",
        "act": "Бұл туралы {date} № {act} акт жасалды, ол сот отырысының хаттамасына қоса "
        "тіркеледі.",
        "no_act": "Бұл туралы акт сот отырысы аяқталғаннан кейін жасалады.",
    },
    "ru": {
        "title": "В протокол судебного заседания: причины неиспользования аудио-, видеозаписи",
        "court": "Суд",
        "case": "Номер дела",
        "hearing": "Судебное заседание",
        "judge": "Председательствующий судья",
        "secretary": "Секретарь судебного заседания",
        "not_used": "Аудио-, видеозапись судебного заседания не велась.",
        "part_not_used": "Аудио-, видеозапись судебного заседания велась не полностью.",
        "reason": "{at} — {kind}. Причина: {detail}",
        "judge_told": "Секретарь судебного заседания доложил об этом судье в {at}.",
        "judge_not_told": "Время доклада судье не отмечено.",
        "announced": "Участникам судебного разбирательства объявлено об этом в {at}.",
        "went_on": "Невозможность использования средств аудио-, видеозаписи не исключила "
        "продолжения судебного заседания; судебное заседание продолжено.",
        "act": "Об этом составлен акт № {act} от {date}, который приобщается к протоколу "
        "судебного заседания.",
        "no_act": "Акт об этом составляется после окончания судебного заседания.",
    },
}


def minutes_paragraphs(language: str, facts: Mapping[str, object]) -> list[str]:
    """The minutes' text on why audio and video recording was not used (R9), in ``language``
    ("kk" or "ru"). ``facts``: ``recorded`` (bool: a recording exists), ``incidents`` (each a
    mapping of at, kind, detail, judge_told, announced — local times as text, "" when not
    recorded), ``act`` and ``act_date`` ("" while no act is drawn up)."""
    t = MINUTES_LABELS[language]
    lines = [t["part_not_used"] if facts.get("recorded") else t["not_used"]]
    for incident in facts.get("incidents", []):  # type: ignore[union-attr]
        lines.append(
            t["reason"].format(
                at=incident["at"], kind=kind_title(incident["kind"], language),
                detail=str(incident["detail"]).strip().rstrip(".") + ".",
            )
        )  # fmt: skip
        told = incident.get("judge_told")
        lines.append(t["judge_told"].format(at=told) if told else t["judge_not_told"])
        if incident.get("announced"):
            lines.append(t["announced"].format(at=incident["announced"]))
    lines.append(t["went_on"])
    act = facts.get("act")
    lines.append(t["act"].format(act=act, date=facts.get("act_date")) if act else t["no_act"])
    return lines
