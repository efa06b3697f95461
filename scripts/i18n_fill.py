"""Fill empty msgstr entries of the .po files from the glossaries, then compile .mo files.

Usage, from src/taspa:  django-admin makemessages -l kk -l ru -i "migrations/*" (with
DJANGO_SETTINGS_MODULE=taspa.settings), then  python scripts/i18n_fill.py  from the repository.
Kazakh is the state language: every new interface string gets both translations in a file of
src/taspa/locale/glossary/ (one per area).
"""

import json
import subprocess
import sys
from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "src" / "taspa" / "locale"

GLOSSARY_DIR = LOCALE / "glossary"


def load_glossary() -> dict[str, tuple[str, str]]:
    """English msgid → (Kazakh, Russian), merged from one JSON file per area of the system, so
    people working on different areas never edit the same file."""
    merged: dict[str, tuple[str, str]] = {}
    for path in sorted(GLOSSARY_DIR.glob("*.json")):
        for msgid, (kazakh, russian) in json.loads(path.read_text(encoding="utf-8")).items():
            merged[msgid] = (kazakh, russian)
    return merged


def fill(language: str, glossary: dict[str, tuple[str, str]]) -> list[str]:
    """Fill every untranslated entry of one language; return the msgids still missing."""
    path = LOCALE / language / "LC_MESSAGES" / "django.po"
    catalogue = polib.pofile(str(path), wrapwidth=100)
    missing = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        pair = glossary.get(entry.msgid)
        if pair is not None:
            entry.msgstr = pair[0] if language == "kk" else pair[1]
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
        elif not entry.msgstr or "fuzzy" in entry.flags:
            missing.append(entry.msgid)
    catalogue.metadata["Language"] = language
    catalogue.save(str(path))
    return missing


def main() -> int:
    glossary = load_glossary()
    missing = {language: fill(language, glossary) for language in ("kk", "ru")}
    for language, ids in missing.items():
        for msgid in ids:
            print(f"{language}: no translation for {msgid!r}", file=sys.stderr)
    for po in LOCALE.glob("*/LC_MESSAGES/django.po"):
        subprocess.run(["msgfmt", "--check-format", "-o", po.with_suffix(".mo"), po], check=True)
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
