"""Seed the table of government-decreed moves of days off (R34) with the known years.

The ``holidays`` package (KZ) gives the statutory holidays and the rule of Labour Code
art. 85 (a holiday on a weekend moves the day off to the next working day), so those moves
(2026: 9 March, 24–25 March, 11 May, 26 October) are not repeated here. This table holds what
only a government decree (Labour Code art. 85 p. 3) or a later confirmation decides:

2025 — Resolution of the Government of the Republic of Kazakhstan on moving days off in 2025
(Әділет G24G0000436; archived at
https://web.archive.org/web/20250428203311/https://adilet.zan.kz/kaz/docs/G24G0000436):
the day off moves from Sunday 5 January 2025 to Friday 3 January 2025, so 5 January is a
working day of the five-day week (reported by the Ministry of Labour: rest 1–4 January).

2026 — no decree moving a day off was published for 2026 as of the egov.kz holiday calendar
reported by Kazinform on 2 January 2026 (https://www.inform.kz/ru/kak-budut-otdihat-
kazahstantsi-v-2026-godu-947dd6) and Zakon.kz on 9 January 2026; both confirm the first day of
Kurban Ait on 27 May 2026 (a day off, never moved), which the package marks only as
"estimated", so it is confirmed here. Constitution Day 2026 (30 August, a Sunday): the press
of January 2026 expected 31 August off; the constitutional changes of 2026 that the
``holidays`` package follows (vacanza/holidays PR #3690) drop it for 2026 and set 15 March
from 2027. It is NOT added here: counting 31 August 2026 as a working day gives the earlier,
safe due date. Administrators add a row in Django's admin if a decree says otherwise.
"""

from django.db import migrations

SOURCE_2025 = "Government resolution on moving days off in 2025, Әділет G24G0000436"
SOURCE_2026 = "egov.kz holiday calendar 2026 (Kazinform, 02.01.2026; Zakon.kz, 09.01.2026)"

ROWS = [
    ("2025-01-03", "day_off", "Day off moved from Sunday 5 January 2025", SOURCE_2025),
    ("2025-01-05", "working_day", "Working day: its day off moved to 3 January", SOURCE_2025),
    ("2026-05-27", "day_off", "Kurban Ait, first day (confirmed date)", SOURCE_2026),
]


def seed(apps, schema_editor):
    DayOverride = apps.get_model("access", "DayOverride")
    for day, kind, reason, source in ROWS:
        DayOverride.objects.get_or_create(
            day=day, defaults={"kind": kind, "reason": reason, "source": source}
        )


def unseed(apps, schema_editor):
    DayOverride = apps.get_model("access", "DayOverride")
    DayOverride.objects.filter(day__in=[row[0] for row in ROWS]).delete()


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
