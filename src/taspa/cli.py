"""The ``taspa`` command: Taspa's own verbs and every Django management command."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taspa.settings")
    from django.core.management import execute_from_command_line

    from taspa.env import SettingError

    try:
        execute_from_command_line(["taspa", *(sys.argv[1:] if argv is None else argv)])
    except SettingError as error:
        # A wrong or missing setting: say which variable, without a traceback (STYLE 8).
        sys.stderr.write(f"taspa: setting error: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
