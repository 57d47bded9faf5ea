"""Staff roles gain the whole-list rules and standing messages (same rights as for pair rules)."""

from django.db import migrations


def update_roles(apps, schema_editor):
    from interactions.workflow import ensure_roles

    ensure_roles(apps)


class Migration(migrations.Migration):
    dependencies = [("interactions", "0004_mechanisms_coverage_list_rules_messages")]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
