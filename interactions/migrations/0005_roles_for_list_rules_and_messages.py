"""Staff roles gain the whole-list rules and standing messages (same rights as for pair rules).

The roles are now made after every migrate by the staff app (staff.apps, staff.workflow.ensure_roles):
a migration must not import live code, which changes after the migration was written.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("interactions", "0004_mechanisms_coverage_list_rules_messages")]

    operations = []
