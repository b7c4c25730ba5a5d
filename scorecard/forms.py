"""Forms of the SDG workflow: they check the shape of input; services check the rules."""

from django import forms

from actions.forms import DateInput, StyledForm
from scorecard.models import ExceptionCommentary


def _rich(label):
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="You can use paragraphs, lists, bold, italic and links.",
    )


class CommentaryForm(StyledForm):
    story = _rich("The story behind the numbers")
    helping = _rich("What is helping")
    hindering = _rich("What is hindering")
    actions_taken = _rich("Actions taken")
    expected_recovery = forms.DateField(
        required=False, widget=DateInput, label="Expected recovery date"
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    @classmethod
    def for_commentary(cls, commentary: ExceptionCommentary):
        return cls(
            initial={
                "story": commentary.story,
                "helping": commentary.helping,
                "hindering": commentary.hindering,
                "actions_taken": commentary.actions_taken,
                "expected_recovery": commentary.expected_recovery,
                "version": commentary.version,
            }
        )


class ReviewForm(StyledForm):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note to the author (needed when returning it)",
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class PublishForm(StyledForm):
    confirm = forms.BooleanField(
        label="I understand the published stocktake cannot be changed afterwards"
    )
