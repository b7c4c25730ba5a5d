from django.core.management.base import BaseCommand, CommandError

from indicators.models import Indicator
from scorecard.models import RecomputeRun
from scorecard.services.recompute import (
    recompute,
    recompute_everything,
    recompute_queued,
)


class Command(BaseCommand):
    help = "Recompute the statistics and exception flags of series from their data."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help="Every series.")
        which.add_argument(
            "--indicator",
            nargs="+",
            metavar="KEY",
            help="Every series of these indicators.",
        )
        which.add_argument(
            "--pending", action="store_true", help="The series queued by returns."
        )
        parser.add_argument(
            "--system", help="Slug of the system the indicator keys are in."
        )

    def handle(self, *args, **options):
        if options["all"]:
            run = recompute_everything()
            if run is None:
                raise CommandError("A full recompute is already running.")
        elif options["pending"]:
            run = recompute_queued()
            if run is None:
                self.stdout.write("Nothing is queued.")
                return
        else:
            indicators = Indicator.objects.filter(key__in=options["indicator"])
            if options["system"]:
                indicators = indicators.filter(system__slug=options["system"])
            found = set(indicators.values_list("key", flat=True))
            missing = sorted(set(options["indicator"]) - found)
            if missing:
                raise CommandError(f"No indicator with key: {', '.join(missing)}")
            run = recompute(
                kind=RecomputeRun.Kind.SELECTED,
                indicator_ids=list(indicators.values_list("pk", flat=True)),
            )
        self.stdout.write(
            f"{run.get_status_display()}: {run.series_count} series in "
            f"{run.duration_ms} ms, {run.failure_count} failed."
        )
        for failure in run.failures:
            self.stderr.write(f"{failure['series']}: {failure['error']}")
        if run.failure_count:
            raise CommandError("Some series failed; see above.")
