"""Board pack pages: a system's packs with the form to generate one, a pack with its
progress bar, and its files. Anyone who can view the system may generate and download
its packs; other systems' packs are 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from commissioning.progress import progress_response
from scorecard.packs import services
from scorecard.packs.forms import PackRequestForm
from scorecard.packs.models import BoardPack
from strategies.models import CommissioningSystem
from strategies.permissions import can_view_system, systems_visible_to

PACKS_LISTED = 50

# The stored HTML pack is a document, not a page of the app: no script may run in it.
PACK_HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _system_for(request, slug: str) -> CommissioningSystem:
    return get_object_or_404(systems_visible_to(request.user), slug=slug)


def _pack_for(request, pack_id: int) -> BoardPack:
    pack = get_object_or_404(
        BoardPack.objects.select_related("system", "stocktake", "requested_by"),
        pk=pack_id,
    )
    if not can_view_system(request.user, pack.system):
        raise Http404
    return pack


@login_required
@require_GET
def pack_index(request):
    """The packs of the first system the user may see (the page switches systems)."""
    system = systems_visible_to(request.user).order_by("position", "name").first()
    if system is None:
        raise Http404("You have no role in any commissioning system.")
    return redirect("pack_list", system_slug=system.slug)


@login_required
@require_http_methods(["GET", "POST"])
def pack_list(request, system_slug: str):
    system = _system_for(request, system_slug)
    form = PackRequestForm(system, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pack = services.request_pack(
                system,
                request.user,
                as_at=form.cleaned_data["as_at"],
                stocktake=form.cleaned_data["stocktake"],
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, "The pack is being generated.")
            return redirect("pack_detail", pack_id=pack.pk)
    packs = (
        BoardPack.objects.filter(system=system)
        .select_related("stocktake")
        .order_by("-created_at")[:PACKS_LISTED]
    )
    return render(
        request,
        "packs/pack_list.html",
        {
            "system": system,
            "systems": list(systems_visible_to(request.user).order_by("position")),
            "form": form,
            "packs": list(packs),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def pack_detail(request, pack_id: int):
    pack = _pack_for(request, pack_id)
    return render(
        request,
        "packs/pack_detail.html",
        {"pack": pack, "system": pack.system, "demo_data": pack.has_synthetic},
    )


@login_required
@require_GET
def pack_progress(request, pack_id: int):
    pack = _pack_for(request, pack_id)
    return progress_response(
        pack, stage=pack.stage, percent=pack.percent, running=pack.is_running
    )


@login_required
@require_GET
def pack_file(request, pack_id: int, fmt: str):
    pack = _pack_for(request, pack_id)
    if fmt not in services.FORMATS or pack.status != BoardPack.Status.DONE:
        raise Http404
    stored = getattr(pack, f"{fmt}_file")
    if not stored:
        raise Http404
    # The HTML pack opens in the browser (it is the accessible format); the rest download.
    response = FileResponse(
        stored.open("rb"),
        as_attachment=fmt != "html",
        filename=stored.name.rsplit("/", 1)[-1],
        content_type=services.CONTENT_TYPES[fmt],
    )
    if fmt == "html":
        response["Content-Security-Policy"] = PACK_HTML_POLICY
    return response
