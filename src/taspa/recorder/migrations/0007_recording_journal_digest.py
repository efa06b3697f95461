from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("recorder", "0006_capture_lease"),
    ]

    operations = [
        migrations.AddField(
            model_name="recording",
            name="journal_digest",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
