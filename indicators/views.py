"""Pages for analysts' returns: upload, progress, preview with problems, commit, the list
of returns, a return with its values and rollback, a series with its revisions.

Thin: a permission check, a selector or a service, a template. Every write and every
download needs `can_manage_returns` for the object's system (403 otherwise, whatever id
is guessed); pages that only show need `can_view_system`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commissioning.progress import progress_response
from indicators import selectors, services
from indicators.forms import CommitForm, UploadForm
from indicators.imports import problems as P
from indicators.imports.jobs import live_progress
from indicators.imports.preview import max_upload_bytes
from indicators.imports.readers import human_size
from indicators.models import Area, ImportJob, Indicator, Return
from scorecard.seed.demo import demo_data_present
from strategies.permissions import can_manage_returns, can_view_system

PROBLEMS_SHOWN = 500


def _job_for_manager(request, job_id: int) -> ImportJob:
    job = get_object_or_404(ImportJob.objects.select_related("system"), pk=job_id)
    if not can_manage_returns(request.user, job.system):
        raise PermissionDenied
    return job


def _return_for(request, return_id: int, *, manage: bool) -> Return:
    the_return = get_object_or_404(
        Return.objects.select_related("system", "uploaded_by", "rolled_back_by"),
        pk=return_id,
    )
    allowed = (
        can_manage_returns(request.user, the_return.system)
        if manage
        else can_view_system(request.user, the_return.system)
    )
    if not allowed:
        raise PermissionDenied
    return the_return


@login_required
@require_GET
def return_list(request):
    systems = selectors.manageable_systems(request.user)
    return render(
        request,
        "indicators/return_list.html",
        {
            "returns": list(selectors.returns_for(request.user)),
            "jobs": list(selectors.jobs_for(request.user)),
            "can_upload": systems.exists(),
            "demo_data": demo_data_present(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    systems = selectors.manageable_systems(request.user)
    if not systems.exists():
        raise PermissionDenied
    if request.method == "POST":
        wanted = request.POST.get("system", "")
        if wanted and not systems.filter(pk=wanted if wanted.isdigit() else 0).exists():
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES, systems=systems)
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            too_large = uploaded.size > max_upload_bytes()
            job = services.import_job_create(
                system=form.cleaned_data["system"],
                user=request.user,
                data=None if too_large else b"".join(uploaded.chunks()),
                file_name=uploaded.name,
                size=uploaded.size,
                requested_format=form.cleaned_data["file_format"],
                requested_sheet=form.cleaned_data["sheet"],
                create_missing_indicators=form.cleaned_data[
                    "create_missing_indicators"
                ],
            )
            return redirect("indicators:job_detail", job_id=job.pk)
    else:
        form = UploadForm(systems=systems, initial={"system": systems.first()})
    return render(
        request,
        "indicators/upload.html",
        {"form": form, "limit": human_size(max_upload_bytes())},
    )


@login_required
@require_GET
def job_detail(request, job_id: int):
    job = _job_for_manager(request, job_id)
    context = {
        "job": job,
        "summary": job.summary or {},
        "commit_form": CommitForm(initial={"fingerprint": job.fingerprint}),
    }
    if job.status == ImportJob.Status.INVALID:
        context["problems"] = list(selectors.job_problems(job, limit=PROBLEMS_SHOWN))
        context["problem_counts"] = [
            (code, count, P.DESCRIPTIONS.get(code, ""))
            for code, count in selectors.job_problem_counts(job)
        ]
        context["problems_shown"] = PROBLEMS_SHOWN
    context["nothing_to_change"] = P.NOTHING_TO_CHANGE
    context["has_problems"] = P.HAS_PROBLEMS
    return render(request, "indicators/job_detail.html", context)


@login_required
@require_GET
def job_progress(request, job_id: int):
    job = _job_for_manager(request, job_id)
    stage, done, total = job.stage, job.progress_done, job.progress_total
    live = live_progress(job.pk) if job.is_running else None
    if live is not None:
        stage, done, total = live
    return progress_response(
        job,
        stage=stage,
        percent=job.percent_of(stage, done, total),
        running=job.is_running,
        done=done,
        total=total,
    )


@login_required
@require_POST
def job_commit(request, job_id: int):
    job = _job_for_manager(request, job_id)
    form = CommitForm(request.POST)
    fingerprint = form.cleaned_data["fingerprint"] if form.is_valid() else ""
    try:
        services.import_job_request_commit(
            job=job, user=request.user, fingerprint=fingerprint
        )
    except services.JobNotReady:
        messages.error(request, P.JOB_NOT_READY)
    return redirect("indicators:job_detail", job_id=job.pk)


@login_required
@require_POST
def job_discard(request, job_id: int):
    job = _job_for_manager(request, job_id)
    services.import_job_discard(job=job)
    return redirect("indicators:return_list")


@login_required
@require_POST
def job_recheck(request, job_id: int):
    job = _job_for_manager(request, job_id)
    try:
        services.import_job_recheck(job=job)
    except services.JobNotReady:
        messages.error(request, P.JOB_NOT_READY)
    return redirect("indicators:job_detail", job_id=job.pk)


@login_required
@require_GET
def job_problems_csv(request, job_id: int):
    job = _job_for_manager(request, job_id)
    report = P.problems_csv(
        P.Problem(
            code=p.code,
            message=p.message,
            row=p.row,
            column=p.column,
            value=p.value,
            sheet=p.sheet,
        )
        for p in selectors.job_problems(job)
    )
    response = HttpResponse(report, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="problems-upload-{job.pk}.csv"'
    )
    return response


def _file_response(field, file_name: str):
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=file_name or "return")


@login_required
@require_GET
def job_file(request, job_id: int):
    job = _job_for_manager(request, job_id)
    return _file_response(job.file, job.file_name)


@login_required
@require_GET
def return_detail(request, return_id: int):
    the_return = _return_for(request, return_id, manage=False)
    return render(
        request,
        "indicators/return_detail.html",
        {
            "detail": selectors.return_detail(the_return),
            "the_return": the_return,
            "can_manage": can_manage_returns(request.user, the_return.system),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def return_rollback(request, return_id: int):
    the_return = _return_for(request, return_id, manage=True)
    if request.method == "POST":
        try:
            services.return_rollback(the_return=the_return, user=request.user)
        except services.RollbackRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Return {the_return.pk} was rolled back.")
        return redirect("indicators:return_detail", return_id=the_return.pk)
    return render(
        request, "indicators/return_rollback.html", {"the_return": the_return}
    )


@login_required
@require_GET
def return_file(request, return_id: int):
    the_return = _return_for(request, return_id, manage=True)
    return _file_response(the_return.file, the_return.file_name)


@login_required
@require_GET
def series_history(request, indicator_id: int, area_id: int):
    indicator = get_object_or_404(
        Indicator.objects.select_related("system"), pk=indicator_id
    )
    if not can_view_system(request.user, indicator.system):
        raise PermissionDenied
    area = get_object_or_404(Area, pk=area_id)
    return render(
        request,
        "indicators/series_history.html",
        {
            "indicator": indicator,
            "area": area,
            "points": selectors.series_history(indicator, area),
        },
    )
