"""Staff roles: both see pending revisions; clinical reviewers approve them."""

from django.db import migrations


def update_roles(apps, schema_editor):
    from interactions.workflow import ensure_roles

    ensure_roles(apps)


class Migration(migrations.Migration):
    dependencies = [("interactions", "0008_revisions")]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
