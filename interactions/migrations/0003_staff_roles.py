"""The two staff roles, as groups with permissions: content editor and clinical reviewer.

The roles are now made after every migrate by the staff app (staff.apps, staff.workflow.ensure_roles):
a migration must not import live code, which changes after the migration was written.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("interactions", "0002_staff_workflow_and_history"),
        ("education", "0002_history_and_reviewer_constraint"),
    ]

    operations = []
