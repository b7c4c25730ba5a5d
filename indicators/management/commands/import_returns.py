"""Load an indicator return from the command line: the same checks, preview and commit as
the page. Exit status 0 when committed (or valid with --dry-run), 1 when the file has
problems; the problems are printed one per line as: row, column, code, message."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from indicators import services
from indicators.imports import problems as P
from indicators.models import ImportJob
from strategies.models import CommissioningSystem


class Command(BaseCommand):
    help = "Check and load a return (CSV or Excel; long, wide or Fingertips format)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV or .xlsx file.")
        parser.add_argument(
            "--format",
            default="auto",
            choices=[c for c, _ in ImportJob.Format.choices],
            help="The file's format (detected when 'auto').",
        )
        parser.add_argument(
            "--system",
            default="",
            help="Slug of the commissioning system (inferred from the indicators when left out).",
        )
        parser.add_argument(
            "--sheet",
            default="",
            help="Excel: read only this sheet (default: every sheet with a header).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and preview; write nothing."
        )
        parser.add_argument(
            "--create-missing-indicators",
            action="store_true",
            help="Fingertips: create indicators the system does not have yet.",
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                f"Cannot read {path}: {exc.strerror}", returncode=1
            ) from exc
        system = None
        if options["system"]:
            system = CommissioningSystem.objects.filter(slug=options["system"]).first()
            if system is None:
                known = ", ".join(
                    CommissioningSystem.objects.values_list("slug", flat=True)
                )
                raise CommandError(
                    f"There is no system '{options['system']}'. Systems: {known}.",
                    returncode=1,
                )
        import_options = services.ImportOptions(
            format=options["format"],
            sheet=options["sheet"],
            create_missing_indicators=options["create_missing_indicators"],
        )
        if options["dry_run"]:
            preview = services.return_preview(
                data=data, file_name=path.name, system=system, options=import_options
            )
            self._fail_on_problems(preview.problems)
            self._describe(preview)
            if preview.changes_nothing:
                self.stdout.write(P.NOTHING_TO_CHANGE)
            self.stdout.write("Dry run: nothing was written.")
            return
        try:
            outcome = services.return_commit(
                data=data,
                file_name=path.name,
                system=system,
                options=import_options,
                source=f"manage.py import_returns {path.name}",
            )
        except services.ReturnHasProblems as exc:
            self._fail_on_problems(exc.problems)
            raise  # pragma: no cover - _fail_on_problems always raises here
        except services.PreviewOutOfDate as exc:
            raise CommandError(str(exc), returncode=1) from exc
        self._describe(outcome.preview)
        if outcome.changed_nothing:
            self.stdout.write(P.NOTHING_TO_CHANGE)
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Committed return {outcome.the_return.pk} to {outcome.preview.system.name}."
            )
        )

    def _fail_on_problems(self, problems):
        if not problems:
            return
        for item in problems:
            self.stdout.write(item.cli_line())
        raise CommandError(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''}: {P.HAS_PROBLEMS}",
            returncode=1,
        )

    def _describe(self, preview):
        summary = preview.parse
        system = preview.system.name + (
            " (inferred)" if preview.system_inferred else ""
        )
        self.stdout.write(f"System: {system}")
        self.stdout.write(f"Format: {summary.format}")
        for sheet in summary.sheets:
            where = f"Sheet '{sheet.name}': " if sheet.name else ""
            ignored = (
                f"; columns not used: {', '.join(sheet.ignored_columns)}"
                if sheet.ignored_columns
                else ""
            )
            self.stdout.write(f"{where}header on row {sheet.header_row}{ignored}")
        for name, reason in summary.skipped_sheets:
            self.stdout.write(f"Sheet '{name}' not read: {reason}")
        if summary.encoding:
            self.stdout.write(
                f"Text: {summary.encoding}, {summary.delimiter} separated"
            )
        if summary.percentage_convention:
            self.stdout.write(f"Percentages: {summary.percentage_convention}")
        for area in summary.new_areas:
            self.stdout.write(f"Area to create: {area.code} {area.name} ({area.kind})")
        for indicator in summary.new_indicators:
            self.stdout.write(
                f"Indicator to create: Fingertips {indicator.fingertips_id} {indicator.name}"
            )
        self.stdout.write(
            f"{preview.new} new, {preview.revised} revised, "
            f"{preview.unchanged} unchanged, {preview.skipped} skipped"
        )
        for reason, count in sorted(summary.skipped_reasons.items()):
            self.stdout.write(f"Skipped: {reason} ({count})")
        for item in preview.samples()["revised"]:
            breakdown = f" ({item['breakdown']})" if item["breakdown"] else ""
            self.stdout.write(
                f"Revised: {item['indicator']}, {item['area']}, {item['period']}{breakdown}: "
                f"{item['old_value']} -> {item['value']}"
            )
