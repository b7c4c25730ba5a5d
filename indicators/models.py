"""Indicators, the areas and periods they are measured for, and their values.

Invariants the database enforces:
- one *current* observation per (indicator, area, period, breakdown); earlier versions stay
  as non-current rows, each with the return that brought it and (when a return revised it)
  `superseded_by` pointing at the version that replaced it;
- a period is unique by (type, start, end) and never ends before it starts;
- confidence limits bracket nothing backwards (lower <= upper).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from commissioning.db import TimeStampedModel


class Area(TimeStampedModel):
    """A geography or organisation values are reported for, with its ONS or ODS code."""

    class Kind(models.TextChoices):
        COUNTRY = "country", "Country"
        REGION = "region", "Region"
        COUNTY = "county", "County"
        UNITARY = "unitary", "Unitary authority"
        DISTRICT = "district", "District"
        CCG = "ccg", "Clinical commissioning group"
        LOCALITY = "locality", "Locality"
        TRUST = "trust", "NHS trust"
        OTHER = "other", "Other"

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PeriodType(models.TextChoices):
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter (financial)"
    FINANCIAL_YEAR = "financial_year", "Financial year"
    CALENDAR_YEAR = "calendar_year", "Calendar year"
    MULTI_YEAR = "multi_year", "Rolling or pooled years"


class Period(models.Model):
    kind = models.CharField(max_length=20, choices=PeriodType.choices)
    start = models.DateField()
    end = models.DateField()
    label = models.CharField(max_length=40)

    class Meta:
        ordering = ["start", "end"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "start", "end"], name="period_unique_span"
            ),
            models.CheckConstraint(
                condition=Q(end__gte=F("start")), name="period_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class Indicator(TimeStampedModel):
    class SourceFramework(models.TextChoices):
        PHOF = "PHOF", "Public Health Outcomes Framework"
        ASCOF = "ASCOF", "Adult Social Care Outcomes Framework"
        NHSOF = "NHSOF", "NHS Outcomes Framework"
        CCGOF = "CCGOF", "CCG Outcomes Indicator Set"
        CARE_ACT = "CARE_ACT", "Care Act metric"
        LOCAL = "LOCAL", "Local measure"
        OTHER = "OTHER", "Other"

    class MeasureType(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage"
        COUNT = "count", "Count"
        RATE_PER_1000 = "rate_per_1000", "Rate per 1,000"
        RATE_PER_100000 = "rate_per_100000", "Rate per 100,000"
        SCORE = "score", "Score"
        RATIO = "ratio", "Ratio"
        RATE = "rate", "Rate"
        CURRENCY = "currency", "Currency"
        OTHER = "other", "Other"

    class Polarity(models.TextChoices):
        HIGHER_IS_BETTER = "higher_is_better", "Higher is better"
        LOWER_IS_BETTER = "lower_is_better", "Lower is better"
        NO_JUDGEMENT = "no_judgement", "No judgement"

    system = models.ForeignKey(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    key = models.SlugField(max_length=100)
    title = models.CharField(max_length=500)
    aliases = models.JSONField(default=list, blank=True)
    code = models.CharField(max_length=50, blank=True)
    source_framework = models.CharField(max_length=10, choices=SourceFramework.choices)
    local_source = models.CharField(max_length=100, blank=True)
    measure_type = models.CharField(max_length=20, choices=MeasureType.choices)
    unit = models.CharField(max_length=30, blank=True)
    multiplier = models.PositiveIntegerField(default=1)
    decimal_places = models.PositiveSmallIntegerField(default=1)
    polarity = models.CharField(
        max_length=20, choices=Polarity.choices, default=Polarity.NO_JUDGEMENT
    )
    period_type = models.CharField(max_length=20, choices=PeriodType.choices)
    provider = models.CharField(max_length=200, blank=True)
    definition = models.TextField(blank=True)
    fingertips_id = models.PositiveIntegerField(null=True, blank=True)
    breakdowns = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "Breakdowns kept when a Fingertips download is loaded: any of 'sex', 'age', "
            "'category'. Rows for other breakdowns are skipped and counted."
        ),
    )
    data_owner = models.CharField(max_length=200, blank=True)
    amber_tolerance = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=5,
        help_text="Within this % of the target counts as amber.",
    )
    source = models.CharField(max_length=200, blank=True)
    strategies = models.ManyToManyField(
        "strategies.Strategy", through="IndicatorAssignment", related_name="indicators"
    )
    framework_items = models.ManyToManyField(
        "strategies.FrameworkItem", blank=True, related_name="indicators"
    )
    # Audit: every change to a definition, with who and when (issue 6).
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["system", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "key"], name="indicator_unique_key"
            ),
            models.UniqueConstraint(
                fields=["system", "fingertips_id"],
                condition=Q(fingertips_id__isnull=False),
                name="indicator_unique_fingertips_id",
            ),
            models.CheckConstraint(
                condition=Q(decimal_places__lte=6),
                name="indicator_decimal_places_max_6",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}".strip()


class IndicatorAssignment(models.Model):
    """An indicator's place in a strategy, where its polarity may be overridden."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="assignments"
    )
    strategy = models.ForeignKey(
        "strategies.Strategy", on_delete=models.CASCADE, related_name="assignments"
    )
    polarity = models.CharField(
        max_length=20,
        choices=Indicator.Polarity.choices,
        blank=True,
        help_text="Leave blank to use the indicator's polarity.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["strategy", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "strategy"], name="assignment_unique_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator} in {self.strategy}"

    @property
    def effective_polarity(self) -> str:
        return self.polarity or self.indicator.polarity


class Return(TimeStampedModel):
    """One load of values: an analyst's upload, a transcribed document, or demo data."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", "Uploaded return"
        SEED = "seed", "Transcribed source document"
        DEMO = "demo", "Synthetic demo data"

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        COMMITTED = "committed", "Committed"
        ROLLED_BACK = "rolled_back", "Rolled back"

    system = models.ForeignKey(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="returns",
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.COMMITTED
    )
    title = models.CharField(max_length=300)
    file_name = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns",
    )
    source = models.CharField(max_length=300, blank=True)
    # An uploaded return keeps its original file (under MEDIA_ROOT, never served directly),
    # what was read from it and what it changed.
    file = models.FileField(upload_to="returns/", blank=True, max_length=300)
    sheet = models.CharField(max_length=300, blank=True)
    file_format = models.CharField(max_length=20, blank=True)
    value_convention = models.CharField(max_length=300, blank=True)
    new_count = models.PositiveIntegerField(default=0)
    revised_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    rolled_back_at = models.DateTimeField(null=True, blank=True)
    rolled_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["system", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def is_synthetic(self) -> bool:
        return self.kind == self.Kind.DEMO


class Observation(models.Model):
    """A value of an indicator for an area and period; versions are kept, one is current."""

    # Every index here is paid for on each value a return loads, so there are only the
    # ones reads need: the indicator, area and period have no index of their own (the
    # indexes below lead with the indicator; nothing reads values by area or period
    # alone, and areas and periods, which values PROTECT, are all but never deleted).
    # The foreign keys themselves stay: the database checks every value's references.
    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="observations", db_index=False
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="observations", db_index=False
    )
    period = models.ForeignKey(
        Period, on_delete=models.PROTECT, related_name="observations", db_index=False
    )
    breakdown = models.CharField(
        max_length=200, blank=True, default="", help_text="e.g. 'Female, 18+ yrs'"
    )
    value = models.FloatField(null=True, blank=True)
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    lower_ci = models.FloatField("lower 95% limit", null=True, blank=True)
    upper_ci = models.FloatField("upper 95% limit", null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    is_synthetic = models.BooleanField(default=False)
    is_current = models.BooleanField(default=True)
    source_return = models.ForeignKey(
        Return, on_delete=models.PROTECT, related_name="observations"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="earlier_versions",
        help_text="The version that replaced this one (set by a return that revised it).",
        db_index=False,  # indexed below where set: most values are never revised
    )

    class Meta:
        ordering = ["indicator", "area", "period__start"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "area", "period", "breakdown"],
                condition=Q(is_current=True),
                name="observation_one_current_value",
            ),
            models.CheckConstraint(
                condition=Q(lower_ci__isnull=True)
                | Q(upper_ci__isnull=True)
                | Q(lower_ci__lte=F("upper_ci")),
                name="observation_ci_ordered",
            ),
            models.CheckConstraint(
                condition=Q(denominator__isnull=True) | Q(denominator__gte=0),
                name="observation_denominator_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["indicator", "area", "is_current"]),
            models.Index(
                fields=["superseded_by"],
                condition=Q(superseded_by__isnull=False),
                name="observation_superseded_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.key} {self.area.code} {self.period}: {self.value}"


class Target(TimeStampedModel):
    class Kind(models.TextChoices):
        ABSOLUTE = "absolute", "Absolute value"
        CHANGE_FROM_BASELINE = (
            "change_from_baseline",
            "Change from a baseline (value in %)",
        )
        RELATIVE_TO_ENGLAND = "relative_to_england", "Relative to the England value"

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="targets"
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="targets"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    value = models.FloatField(null=True, blank=True)
    baseline_value = models.FloatField(null=True, blank=True)
    baseline_period = models.ForeignKey(
        Period, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applies_from = models.DateField(null=True, blank=True)
    applies_to = models.DateField(null=True, blank=True)
    due_label = models.CharField(max_length=50, blank=True)
    amber_tolerance = models.FloatField(
        null=True, blank=True, help_text="% of the target; blank uses the indicator's."
    )
    text = models.CharField(
        max_length=500, blank=True, help_text="As the source states it"
    )
    source = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["indicator", "applies_to"]
        constraints = [
            models.CheckConstraint(
                condition=Q(applies_from__isnull=True)
                | Q(applies_to__isnull=True)
                | Q(applies_to__gte=F("applies_from")),
                name="target_applies_in_order",
            ),
            # A change target holds the change in % (e.g. -50 for "reduce by half"); its
            # baseline may come from the data at `baseline_period`.
            models.CheckConstraint(
                condition=~Q(kind="change_from_baseline") | Q(value__isnull=False),
                name="target_change_needs_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.key}: {self.text or self.value}"


class ImportJob(TimeStampedModel):
    """One uploaded file on its way in: read, checked and previewed, then committed (or not).

    The original file is kept under MEDIA_ROOT (outside the web root) from the moment it is
    uploaded. `fingerprint` identifies exactly what the preview showed: the commit recomputes
    it from the file and the database inside its transaction and refuses when it differs.
    Progress is written outside any transaction so the page can poll it."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        VALIDATING = "validating", "Checking the file"
        INVALID = "invalid", "Has problems"
        READY = "ready", "Ready to commit"
        UNCHANGED = "unchanged", "Nothing to change"
        COMMITTING = "committing", "Saving the values"
        COMMITTED = "committed", "Committed"
        STALE = "stale", "Preview out of date"
        DISCARDED = "discarded", "Discarded"
        FAILED = "failed", "Failed"

    RUNNING = (Status.QUEUED, Status.VALIDATING, Status.COMMITTING)

    class Format(models.TextChoices):
        AUTO = "auto", "Detect automatically"
        LONG = "long", "Long (one value per row)"
        WIDE = "wide", "Wide (one column per period)"
        FINGERTIPS = "fingertips", "OHID Fingertips data download"

    system = models.ForeignKey(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="import_jobs",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="import_jobs",
    )
    file = models.FileField(upload_to="returns/", max_length=300, blank=True)
    file_name = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    requested_format = models.CharField(
        max_length=20, choices=Format.choices, default=Format.AUTO
    )
    requested_sheet = models.CharField(max_length=300, blank=True)
    create_missing_indicators = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED
    )
    stage = models.CharField(max_length=200, blank=True)
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    detected_format = models.CharField(max_length=20, blank=True)
    problem_count = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    revised_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    fingerprint = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    committed_return = models.OneToOneField(
        Return,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="import_job",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["system", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    # Share of the bar each stage fills, by what the job is doing: (stage, start, end).
    STAGE_SPANS = {
        Status.VALIDATING: {
            "Reading the file": (0, 5),
            "Checking values": (5, 85),
            "Comparing rows across the file": (85, 90),
            "Comparing with the values already held": (90, 99),
        },
        Status.COMMITTING: {
            "Reading the file": (0, 2),
            "Checking values": (2, 35),
            "Comparing rows across the file": (35, 38),
            "Saving the values": (38, 99),
        },
    }

    @property
    def percent(self) -> int:
        return self.percent_of(self.stage, self.progress_done, self.progress_total)

    def percent_of(self, stage: str, done: int, total: int) -> int:
        if self.status not in self.RUNNING:
            return 100
        start, end = self.STAGE_SPANS.get(self.status, {}).get(stage, (0, 0))
        share = min(1.0, done / total) if total else 0.0
        return min(99, int(start + (end - start) * share))


class ImportProblem(models.Model):
    """One problem found in an uploaded file, where the analyst will find it."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="problems"
    )
    position = models.PositiveIntegerField()
    sheet = models.CharField(max_length=300, blank=True)
    row = models.PositiveIntegerField(null=True, blank=True)
    column = models.CharField(max_length=300, blank=True)
    value = models.CharField(max_length=300, blank=True)
    code = models.CharField(max_length=50)
    message = models.CharField(max_length=1000)

    class Meta:
        ordering = ["job", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "position"], name="import_problem_unique_position"
            )
        ]

    def __str__(self) -> str:
        where = f"Row {self.row}, column {self.column}" if self.row else self.column
        return f"{where}: {self.message}" if where else self.message


class ReturnEvent(models.Model):
    """The audit trail of returns: who committed or rolled back what, when, with the counts."""

    class Action(models.TextChoices):
        COMMITTED = "committed", "Committed"
        ROLLED_BACK = "rolled_back", "Rolled back"

    source_return = models.ForeignKey(
        Return, on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(auto_now_add=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["source_return", "at"]

    def __str__(self) -> str:
        return f"{self.source_return} {self.get_action_display().lower()} at {self.at}"


class RecomputeRequest(models.Model):
    """Outbox: a series whose values changed and whose statistics need recomputing.

    Written by the commit and the rollback of a return in the same transaction as the values,
    so a change can never be left unannounced. A consumer takes the unprocessed rows
    (`processed_at` is null), recomputes each (indicator, area, breakdown) series in full
    (idempotent, so duplicates are harmless) and sets `processed_at`."""

    class Reason(models.TextChoices):
        COMMIT = "commit", "Return committed"
        ROLLBACK = "rollback", "Return rolled back"

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="recompute_requests"
    )
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="+")
    breakdown = models.CharField(max_length=200, blank=True, default="")
    source_return = models.ForeignKey(
        Return, on_delete=models.CASCADE, related_name="recompute_requests"
    )
    reason = models.CharField(
        max_length=10, choices=Reason.choices, default=Reason.COMMIT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(processed_at__isnull=True),
                name="recompute_pending",
            )
        ]

    def __str__(self) -> str:
        return f"Recompute {self.indicator_id}/{self.area_id}/{self.breakdown or '-'}"
