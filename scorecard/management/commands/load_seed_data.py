from django.core.management.base import BaseCommand, CommandError

from scorecard.seed.files import FIXTURES_DIR, SeedDataError
from scorecard.seed.loader import load_seed_data


class Command(BaseCommand):
    help = (
        "Load the commissioning frameworks transcribed from the source documents "
        "(fixtures/). Idempotent: running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Also add synthetic history (marked as demo data) for charts and statistics.",
        )
        parser.add_argument(
            "--fixtures", default=str(FIXTURES_DIR), help="Seed folder."
        )

    def handle(self, *args, **options):
        from pathlib import Path

        try:
            stats = load_seed_data(
                root=Path(options["fixtures"]), with_demo=options["demo"]
            )
        except SeedDataError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"{len(exc.problems)} problem(s) in the seed data; nothing was loaded."
            ) from exc
        self.stdout.write(stats.summary())
