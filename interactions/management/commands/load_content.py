from django.core.management.base import BaseCommand, CommandError

from interactions.content_packs import load_packs, read_packs, validate_packs


class Command(BaseCommand):
    help = "Load the reviewed content packs in fixtures/content/ (or only check them with --check)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Validate every pack; write nothing.")

    def handle(self, *args, check: bool = False, **options) -> None:
        packs = read_packs()
        if check:
            problems = validate_packs(packs)
            for problem in problems:
                self.stdout.write(problem)
            if problems:
                raise CommandError(f"{len(problems)} problem(s) in {len(packs.files)} pack(s).")
            self.stdout.write(
                f"{len(packs.files)} pack(s) OK: {len(packs.medications)} medicines, {len(packs.rules)} rules, "
                f"{len(packs.list_rules)} whole-list rules, {len(packs.standing_messages)} standing messages."
            )
            return
        counts = load_packs(packs)
        if options.get("verbosity", 1) >= 1:
            self.stdout.write("Content packs: " + ", ".join(f"{n} {name}" for name, n in counts.items()) + ".")
