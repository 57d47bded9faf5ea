"""Export medications, their names and interaction rules as JSON or CSV (see staff/importexport.py).

python manage.py export_content --output content.json
python manage.py export_content --format csv --output content/      # medications.csv, names.csv, interactions.csv
python manage.py export_content --only interactions --output rules.json
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from staff import importexport


class Command(BaseCommand):
    help = "Export medications, names and interaction rules as JSON (one file) or CSV (one file per kind)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=["json", "csv"], default=None, help="Default: from --output.")
        parser.add_argument("--output", default="-", help="A .json file, a directory for CSV, or - for stdout (JSON).")
        parser.add_argument(
            "--only", default=",".join(importexport.KINDS), help="Comma-separated: " + ", ".join(importexport.KINDS)
        )
        parser.add_argument(
            "--curated", action="store_true", help="Only the hand-checked catalog (not the full imported dictionary)."
        )

    def handle(self, *args, format: str | None, output: str, only: str, curated: bool, **options) -> None:
        kinds = _kinds(only)
        fmt = format or ("json" if output == "-" or output.endswith(".json") else "csv")
        data = importexport.export_all(kinds=kinds, curated_only=curated)
        if fmt == "json":
            text = importexport.to_json(data)
            if output == "-":
                self.stdout.write(text, ending="")
            else:
                Path(output).write_text(text, encoding="utf-8")
        else:
            if output == "-":
                raise CommandError("CSV export writes one file per kind: give --output a directory.")
            directory = Path(output)
            directory.mkdir(parents=True, exist_ok=True)
            for kind, rows in data.items():
                with (directory / f"{kind}.csv").open("w", encoding="utf-8", newline="") as handle:
                    handle.write(importexport.to_csv(kind, rows))
        counts = ", ".join(f"{len(rows)} {kind}" for kind, rows in data.items())
        self.stderr.write(f"Exported {counts}.")


def _kinds(only: str) -> list[str]:
    kinds = [k.strip() for k in only.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in importexport.KINDS]
    if unknown or not kinds:
        raise CommandError(f"--only takes {', '.join(importexport.KINDS)}; not {', '.join(unknown) or 'nothing'}.")
    return kinds
