"""The two staff roles, as groups with permissions: content editor and clinical reviewer."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from interactions.workflow import ensure_roles

    ensure_roles(apps)


def remove_roles(apps, schema_editor):
    from interactions.workflow import CUSTOM_PERMISSIONS, ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()
    apps.get_model("auth", "Permission").objects.filter(
        codename__in=[codename for _app, _model, codename, _name in CUSTOM_PERMISSIONS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("interactions", "0002_staff_workflow_and_history"),
        ("education", "0002_history_and_reviewer_constraint"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
