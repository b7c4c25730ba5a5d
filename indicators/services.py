"""Every write to indicators goes through here. Returns (uploads of values) are
implemented in `indicators.imports`; this module is the one place callers import from."""

from indicators.imports.commit import (
    CommitOutcome,
    PreviewOutOfDate,
    ReturnHasProblems,
    return_commit,
)
from indicators.imports.jobs import (
    JobNotReady,
    import_job_commit,
    import_job_create,
    import_job_discard,
    import_job_recheck,
    import_job_request_commit,
    import_job_validate,
)
from indicators.imports.parsing import Options as ImportOptions
from indicators.imports.preview import Preview, return_preview
from indicators.imports.rollback import RollbackRefused, return_rollback

__all__ = [
    "CommitOutcome",
    "ImportOptions",
    "JobNotReady",
    "Preview",
    "PreviewOutOfDate",
    "ReturnHasProblems",
    "RollbackRefused",
    "import_job_commit",
    "import_job_create",
    "import_job_discard",
    "import_job_recheck",
    "import_job_request_commit",
    "import_job_validate",
    "return_commit",
    "return_preview",
    "return_rollback",
]
