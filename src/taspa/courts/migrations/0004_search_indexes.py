"""Indexes for the search across recordings (#16 point 3; ``taspa.recorder.search``): the case
number and the participants' names are searched for any part of them (``icontains``, which
PostgreSQL runs as ``UPPER(col) LIKE UPPER('%…%')``), so PostgreSQL gets trigram GIN indexes on
``UPPER(col)``. SQLite (tests, the demo) has no trigrams and scans; nothing to add there."""

from django.db import migrations

INDEXES = {
    "case_number_trgm": "courts_case USING gin (UPPER(number) gin_trgm_ops)",
    "participant_name_trgm": "courts_hearingparticipant USING gin (UPPER(name) gin_trgm_ops)",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, target in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("courts", "0003_hearing_hearing_scheduled")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
