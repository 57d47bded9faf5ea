"""Names imported with wiki markup or escaped HTML ("<ref name=...>", "{{cite web") are removed:
no one types them and no one should read them. The import now skips them."""

import re

from django.db import migrations

JUNK = re.compile(r"&lt;|&gt;|&quot;|&amp;|\{\{|\}\}|\[\[|\]\]|''|<|>|\bref name\b|\bcite (web|book|journal)\b", re.I)


def drop_junk_names(apps, schema_editor):
    names = apps.get_model("interactions", "MedicationName")
    suspects = names.objects.filter(name__regex=r"[<>{}\[\]&']|cite|ref").only("id", "name")
    junk = [n.id for n in suspects.iterator() if JUNK.search(n.name) or len(n.name) > 150]
    for start in range(0, len(junk), 500):
        names.objects.filter(id__in=junk[start : start + 500]).delete()


class Migration(migrations.Migration):
    dependencies = [("interactions", "0005_roles_for_list_rules_and_messages")]

    operations = [migrations.RunPython(drop_junk_names, migrations.RunPython.noop)]
