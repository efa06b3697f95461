"""Fill empty msgstr entries of the .po files from the glossary below, then compile .mo files.

Usage: .venv/bin/python scripts/i18n_fill.py  (after `taspa makemessages -l kk -l ru`).
Kazakh is the state language: every new interface string gets both translations here.
"""

import re
import subprocess
import sys
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "src" / "taspa" / "locale"

# English msgid: (Kazakh, Russian)
GLOSSARY = {
    "API access": ("API қолжетімділігі", "Доступ к API"),
    "API token": ("API токені", "API-токен"),
    "API tokens": ("API токендері", "API-токены"),
    "Audit log": ("Аудит журналы", "Журнал аудита"),
    "audit event": ("аудит оқиғасы", "событие аудита"),
    "audit events": ("аудит оқиғалары", "события аудита"),
    "Courts, cases and hearings": ("Соттар, істер және отырыстар", "Суды, дела и заседания"),
    "code": ("код", "код"),
    "name": ("атауы", "наименование"),
    "level": ("деңгейі", "уровень"),
    "region": ("өңір", "регион"),
    "court": ("сот", "суд"),
    "courts": ("соттар", "суды"),
    "full name": ("толық аты-жөні", "ФИО"),
    "interface language": ("интерфейс тілі", "язык интерфейса"),
    "Remembered choice of the interface language.": (
        "Интерфейс тілінің сақталған таңдауы.",
        "Сохранённый выбор языка интерфейса.",
    ),
    "user": ("пайдаланушы", "пользователь"),
    "users": ("пайдаланушылар", "пользователи"),
    "role": ("рөлі", "роль"),
    "role assignment": ("рөл тағайындау", "назначение роли"),
    "role assignments": ("рөл тағайындаулары", "назначения ролей"),
    "capture sources": ("жазу көздері", "источники записи"),
    "courtroom": ("сот залы", "зал судебных заседаний"),
    "courtrooms": ("сот залдары", "залы судебных заседаний"),
    "Kazakh": ("Қазақша", "Казахский"),
    "Russian": ("Орысша", "Русский"),
    "English": ("Ағылшынша", "Английский"),
    "case number": ("іс нөмірі", "номер дела"),
    "kind": ("түрі", "вид"),
    "language of proceedings": ("іс жүргізу тілі", "язык судопроизводства"),
    "judgment took legal effect on": (
        "сот актісі заңды күшіне енген күн",
        "дата вступления судебного акта в законную силу",
    ),
    "case": ("іс", "дело"),
    "cases": ("істер", "дела"),
    "scheduled": ("тағайындалған", "назначено"),
    "equipment check": ("жабдықты тексеру", "проверка оборудования"),
    "recording": ("жазылуда", "идёт запись"),
    "paused": ("тоқтатылған", "приостановлено"),
    "stopped": ("аяқталған", "остановлено"),
    "sealed": ("қол қойылған", "подписано"),
    "instance": ("сатысы", "инстанция"),
    "closed hearing": ("жабық отырыс", "закрытое заседание"),
    "scheduled at": ("тағайындалған уақыты", "время назначения"),
    "circumstances": ("мән-жайлар", "обстоятельства"),
    "state": ("күйі", "состояние"),
    "hearing": ("сот отырысы", "судебное заседание"),
    "hearings": ("сот отырыстары", "судебные заседания"),
    "procedural role": ("процестік мәртебесі", "процессуальный статус"),
    "hearing participant": ("процеске қатысушы", "участник процесса"),
    "hearing participants": ("процеске қатысушылар", "участники процесса"),
    "Web interface": ("Веб-интерфейс", "Веб-интерфейс"),
    "Sign in": ("Кіру", "Войти"),
    "Wrong user name or password.": (
        "Пайдаланушы аты немесе құпиясөз қате.",
        "Неверное имя пользователя или пароль.",
    ),
    "User name": ("Пайдаланушы аты", "Имя пользователя"),
    "Password": ("Құпиясөз", "Пароль"),
    "Skip to content": ("Мазмұнға өту", "Перейти к содержанию"),
    "Main": ("Негізгі", "Основное"),
    "Hearings": ("Сот отырыстары", "Судебные заседания"),
    "Administration": ("Әкімшілік", "Администрирование"),
    "Sign out": ("Шығу", "Выйти"),
    "Scheduled at": ("Уақыты", "Время"),
    "Court": ("Сот", "Суд"),
    "Case": ("Іс", "Дело"),
    "Courtroom": ("Зал", "Зал"),
    "State": ("Күйі", "Состояние"),
    "Recording": ("Жазба", "Запись"),
    "closed": ("жабық", "закрытое"),
    "required": ("міндетті", "обязательна"),
    "judge decides": ("судья шешеді", "решает судья"),
    "not required": ("міндетті емес", "не требуется"),
    "No hearings for you yet.": ("Сізге әзірге сот отырыстары жоқ.", "Для вас пока нет заседаний."),
}

ENTRY = re.compile(r'msgid "((?:[^"\\]|\\.)*)"\nmsgstr ""\n(?!")')


def fill(language: str) -> list[str]:
    path = LOCALE / language / "LC_MESSAGES" / "django.po"
    text = path.read_text(encoding="utf-8")
    missing = []

    def replace(match: re.Match) -> str:
        msgid = match.group(1)
        if not msgid:
            return match.group(0)
        pair = GLOSSARY.get(msgid)
        if pair is None:
            missing.append(msgid)
            return match.group(0)
        translated = pair[0] if language == "kk" else pair[1]
        return f'msgid "{msgid}"\nmsgstr "{translated}"\n'

    text = ENTRY.sub(replace, text).replace("#, fuzzy\n", "")
    path.write_text(text, encoding="utf-8")
    return missing


def main() -> int:
    missing = {language: fill(language) for language in ("kk", "ru")}
    for language, ids in missing.items():
        for msgid in ids:
            print(f"{language}: no translation for {msgid!r}", file=sys.stderr)
    for po in LOCALE.glob("*/LC_MESSAGES/django.po"):
        subprocess.run(["msgfmt", "--check-format", "-o", po.with_suffix(".mo"), po], check=True)
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
