"""Forms check the shape of input; the services check the rules and write."""

from django import forms
from django.db.models import Q

from actions.models import Action, Rag
from indicators.models import Indicator


class DateInput(forms.DateInput):
    input_type = "date"


def nhsuk_styled(form: forms.Form) -> None:
    """NHS.UK frontend classes on every widget."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            css = "nhsuk-checkboxes__input"
        elif isinstance(widget, forms.Textarea):
            css = "nhsuk-textarea"
        elif isinstance(widget, forms.Select):
            css = "nhsuk-select"
        elif isinstance(widget, forms.CheckboxInput):
            css = "nhsuk-checkboxes__input"
        else:
            css = "nhsuk-input"
        widget.attrs["class"] = css


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        nhsuk_styled(self)


class ActionForm(StyledForm):
    title = forms.CharField(max_length=300)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="You can use paragraphs, lists, bold, italic and links.",
    )
    timeframe = forms.CharField(
        max_length=100,
        required=False,
        help_text="As you would write it, e.g. 2018/19 Q2",
    )
    timeframe_start = forms.DateField(required=False, widget=DateInput, label="Starts")
    due_date = forms.DateField(required=False, widget=DateInput, label="Due")
    status = forms.ChoiceField(
        choices=[("", "Not set"), *Action.Status.choices], required=False
    )
    rag = forms.ChoiceField(
        choices=[("", "Not set"), *Rag.choices], required=False, label="RAG"
    )
    indicators = forms.ModelMultipleChoiceField(
        queryset=Indicator.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The indicators this activity aims to move.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, strategy, action=None, **kwargs):
        super().__init__(*args, **kwargs)
        # This strategy's indicators (and any the activity already links, so an edit never
        # drops them): ids from elsewhere are invalid choices.
        linked = Q(assignments__strategy=strategy)
        if action is not None:
            linked |= Q(actions=action)
        self.fields["indicators"].queryset = (
            Indicator.objects.filter(linked, system=strategy.system_id)
            .distinct()
            .order_by("title")
        )


class ProgressForm(StyledForm):
    status = forms.ChoiceField(choices=Action.Status.choices)
    rag = forms.ChoiceField(choices=Rag.choices, label="RAG")
    rag_reason = forms.CharField(max_length=500, label="Reason for the RAG rating")
    percent_complete = forms.IntegerField(
        min_value=0, max_value=100, required=False, label="Percentage complete"
    )
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Progress narrative",
        help_text="You can use paragraphs, lists, bold, italic and links.",
    )


class MilestoneForm(StyledForm):
    title = forms.CharField(max_length=300, label="Milestone")
    due_date = forms.DateField(widget=DateInput, label="Due date")
