"""Staff roles: both see pending revisions; clinical reviewers approve them.

The roles are now made after every migrate by the staff app (staff.apps, staff.workflow.ensure_roles):
a migration must not import live code, which changes after the migration was written.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("interactions", "0008_revisions")]

    operations = []
