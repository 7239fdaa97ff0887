from django.db import migrations, models


def mark_existing(apps, schema_editor):
    # Existing disabled rows: with lint errors they were (most likely) disabled by the import; without,
    # someone turned them off on purpose.
    Template = apps.get_model("django_domainconnect", "Template")
    Template.objects.filter(enabled=False, has_errors=True).update(disabled_reason="lint")
    Template.objects.filter(enabled=False, has_errors=False).update(disabled_reason="staff")


class Migration(migrations.Migration):

    dependencies = [
        ("django_domainconnect", "0003_appliedrecord_preexisting"),
    ]

    operations = [
        migrations.AddField(
            model_name="template",
            name="disabled_reason",
            field=models.CharField(blank=True, choices=[("", "—"), ("lint", "lint errors"), ("staff", "staff")],
                                   default="", max_length=8),
        ),
        migrations.RunPython(mark_existing, migrations.RunPython.noop),
    ]
