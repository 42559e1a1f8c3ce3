from django.db import migrations, models
from django.db.models import F


def from_latest_submission(apps, schema_editor):
    # The first submission was never stored before; the latest is the best we have.
    Draft = apps.get_model("sandbox", "Draft")
    Draft.objects.filter(submitted_at__isnull=False).update(first_submitted_at=F("submitted_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("sandbox", "0004_scenarios_responses_and_quotes"),
    ]

    operations = [
        migrations.AddField(
            model_name="draft",
            name="first_submitted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(from_latest_submission, migrations.RunPython.noop),
    ]
