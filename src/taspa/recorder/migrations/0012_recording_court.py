"""``Recording.court``: the hearing's court on the recording's own row (the search across
recordings tests visibility there, #16 point 3), backfilled from hearing → case in one
``UPDATE … FROM`` (PostgreSQL and SQLite ≥ 3.33), and an index of each court's sealed
recordings newest first (one court's, and every court's with each one's court in the index —
which replaces 0011's ``recording_sealed_started``)."""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

SEALED_STARTED = (
    "CREATE INDEX IF NOT EXISTS recording_sealed_started "
    "ON recorder_recording (started_at, id) WHERE state = 'sealed'"
)
BACKFILL = """
UPDATE recorder_recording SET court_id = courts_case.court_id
FROM courts_hearing JOIN courts_case ON courts_case.id = courts_hearing.case_id
WHERE courts_hearing.id = recorder_recording.hearing_id
"""


def backfill(apps, schema_editor):
    schema_editor.execute(BACKFILL)
    if schema_editor.connection.vendor == "postgresql":
        # The new foreign key's checks are deferred: run them now, or the NOT NULL below meets
        # "pending trigger events".
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("courts", "0004_search_indexes"),
        ("recorder", "0011_search_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="recording",
            name="court",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="courts.court",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="recording",
            name="court",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="courts.court",
            ),
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(
                condition=models.Q(("state", "sealed")),
                fields=["court", "started_at", "id"],
                include=("hearing",),
                name="recording_court_started",
            ),
        ),
        migrations.AddIndex(
            model_name="recording",
            index=models.Index(
                condition=models.Q(("state", "sealed")),
                fields=["started_at", "id"],
                include=("court", "hearing"),
                name="recording_sealed_court",
            ),
        ),
        # 0011's index of sealed recordings by start: the one above has its columns and more.
        migrations.RunSQL(
            "DROP INDEX IF EXISTS recording_sealed_started", SEALED_STARTED, elidable=False
        ),
    ]
