"""OpenAPI helpers: problem details, paginated envelopes, the responses every read has."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from commissioning.api.problems import PROBLEM_MEDIA_TYPE, TITLES


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_blank=True, help_text="'' for the whole request"
    )
    code = serializers.CharField()
    message = serializers.CharField()


class ReturnProblemSerializer(serializers.Serializer):
    """One problem found in an uploaded file, where the analyst will find it."""

    sheet = serializers.CharField(allow_blank=True)
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True)
    code = serializers.CharField()
    message = serializers.CharField()


class UploadRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    status = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="A URI reference naming the kind of problem")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(allow_blank=True)
    instance = serializers.CharField(allow_blank=True)
    errors = FieldErrorSerializer(
        many=True, required=False, help_text="Validation errors: every one at once"
    )
    problems = ReturnProblemSerializer(
        many=True,
        required=False,
        help_text="A return with problems: every problem, as the returns page lists them",
    )
    upload = UploadRefSerializer(required=False)
    retry_after_seconds = serializers.IntegerField(required=False)


def problems(*codes: int) -> dict:
    """Problem responses for these status codes, plus 401 and 429 which any call can get."""
    out = {}
    for code in sorted({*codes, 401, 429}):
        out[(code, PROBLEM_MEDIA_TYPE)] = OpenApiResponse(
            ProblemSerializer, description=TITLES.get(code, "Error")
        )
    return out


NOT_MODIFIED = OpenApiResponse(
    description="Not modified (If-None-Match or If-Modified-Since matched)"
)


def read_responses(serializer, *codes: int, csv: bool = False) -> dict:
    responses: dict = {}
    if csv:
        responses[(200, "application/json")] = serializer
        responses[(200, "text/csv")] = OpenApiResponse(
            OpenApiTypes.STR, description="CSV, one row per value"
        )
    else:
        responses[200] = serializer
    responses[304] = NOT_MODIFIED
    responses.update(problems(*codes))
    return responses


FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    required=False,
    description="csv: the same data as CSV (or send Accept: text/csv)",
)

PAGE_PARAMETERS = [
    OpenApiParameter(
        "page", OpenApiTypes.INT, required=False, description="Page number"
    ),
    OpenApiParameter(
        "page_size",
        OpenApiTypes.INT,
        required=False,
        description="Items per page (default 100, at most 1000)",
    ),
]

_PAGINATED: dict[str, type] = {}


def paginated(serializer_class) -> type:
    """A serializer for a page of `serializer_class` (count, next, previous, results)."""
    name = serializer_class.__name__.removesuffix("Serializer")
    if name not in _PAGINATED:
        _PAGINATED[name] = type(
            f"Paginated{name}ListSerializer",
            (serializers.Serializer,),
            {
                "count": serializers.IntegerField(),
                "next": serializers.CharField(allow_null=True),
                "previous": serializers.CharField(allow_null=True),
                "results": serializer_class(many=True),
                "__module__": __name__,
            },
        )
    return _PAGINATED[name]
