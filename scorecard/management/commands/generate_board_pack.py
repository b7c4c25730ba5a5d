"""python manage.py generate_board_pack --system SLUG [--as-at YYYY-MM-DD | --stocktake SLUG]
--output DIR: the board pack's HTML, PDF, XLSX and CSV files, written into DIR."""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from scorecard.models import Stocktake
from scorecard.packs import services
from strategies.models import CommissioningSystem


class Command(BaseCommand):
    help = "Generate a system's board pack (HTML, PDF, XLSX, CSV) into a directory."

    def add_arguments(self, parser):
        parser.add_argument("--system", required=True, help="The system's slug")
        basis = parser.add_mutually_exclusive_group()
        basis.add_argument(
            "--as-at", type=_date, help="Live data as it stood on YYYY-MM-DD"
        )
        basis.add_argument("--stocktake", help="A published stocktake's slug")
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args, system, as_at, stocktake, output, **options):
        try:
            the_system = CommissioningSystem.objects.get(slug=system)
        except CommissioningSystem.DoesNotExist:
            known = ", ".join(
                CommissioningSystem.objects.values_list("slug", flat=True)
            )
            raise CommandError(f"No system {system!r}; known: {known}.") from None
        the_stocktake = None
        if stocktake:
            the_stocktake = Stocktake.objects.filter(
                system=the_system, slug=stocktake
            ).first()
            if the_stocktake is None:
                raise CommandError(f"{the_system} has no stocktake {stocktake!r}.")
        if as_at and as_at > date.today():  # noqa: DTZ011 - a calendar date, not a time
            raise CommandError("--as-at cannot be in the future.")
        written = services.write_pack_files(
            the_system, output, as_at=as_at, stocktake=the_stocktake
        )
        for fmt, path in written.items():
            self.stdout.write(f"{fmt.upper():5} {path}")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        from argparse import ArgumentTypeError

        raise ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
