"""The base of every API view: authentication, scope and throttles, filters validated at
the edge, pagination, problem details for every error, CSV where a view offers it, and
conditional GET (ETag, Last-Modified, 304)."""

from __future__ import annotations

from datetime import datetime

from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from commissioning.api.conditional import conditional
from commissioning.api.permissions import TokenScopePermission
from commissioning.api.renderers import CSVRenderer, ProblemJSONRenderer
from commissioning.api.throttling import ApiRateThrottle
from strategies.models import ApiToken


class ApiPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class ApiView(APIView):
    permission_classes = [IsAuthenticated, TokenScopePermission]
    throttle_classes = [ApiRateThrottle]
    renderer_classes = [JSONRenderer]
    # The scope a token needs for this view's writes (reads need any scope).
    write_scope = ApiToken.Scope.WRITE
    # Set by a view's GET when it knows when its data last changed.
    last_modified: datetime | None = None

    def filters(self, serializer_class) -> dict:
        """Query parameters checked before anything is read: 400 with every problem."""
        serializer = serializer_class(data=self.request.query_params)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def paginate(self, queryset, serializer_class, *, page_context=None) -> Response:
        paginator = ApiPagination()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        page = list(page)
        context = {"request": self.request}
        if page_context is not None:
            context.update(page_context(page))
        data = serializer_class(page, many=True, context=context).data
        return paginator.get_paginated_response(data)

    def paginated_rows(self, queryset, rows) -> dict:
        """One page of the ordered `queryset` (LIMIT/OFFSET in SQL, and a COUNT) in the
        paginated envelope, its rows made by `rows(page)`: plain dicts, for read-only
        lists where building them by hand costs a fraction of nested serializers."""
        paginator = ApiPagination()
        page = list(paginator.paginate_queryset(queryset, self.request, view=self))
        return paginator.get_paginated_response(rows(page)).data

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code >= 400 and isinstance(response, Response):
            # Errors are problem details whatever format was asked for.
            request.accepted_renderer = ProblemJSONRenderer()
            request.accepted_media_type = ProblemJSONRenderer.media_type
        elif request.method == "OPTIONS":
            # The description of the view is JSON whatever format was asked for.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            if isinstance(response, Response):
                response.render()
            return conditional(request._request, response, self.last_modified)
        return response


class CsvMixin:
    """Offer `?format=csv` (or `Accept: text/csv`) beside JSON."""

    renderer_classes = [JSONRenderer, CSVRenderer]
    csv_header: list[str] = []

    def csv_rows(self, data):  # pragma: no cover - every CSV view defines it
        raise NotImplementedError
