"""Indexes for the search across recordings (#16 point 3; ``taspa.recorder.search``): sealed
recordings newest first (every search pages through them in that order, and a date range is a
slice of it), and on PostgreSQL a trigram GIN index over the marks' text (``UPPER(speaker)``,
for ``icontains``). SQLite gets the ordering index only."""

from django.db import migrations

SEALED = (
    "CREATE INDEX IF NOT EXISTS recording_sealed_started "
    "ON recorder_recording (started_at, id) WHERE state = 'sealed'"
)
MARK_TRGM = (
    "CREATE INDEX IF NOT EXISTS mark_speaker_trgm "
    "ON recorder_mark USING gin (UPPER(speaker) gin_trgm_ops)"
)


def forwards(apps, schema_editor):
    schema_editor.execute(SEALED)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(MARK_TRGM)


def backwards(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS recording_sealed_started")
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS mark_speaker_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("courts", "0004_search_indexes"),
        ("recorder", "0010_closed_portions"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
