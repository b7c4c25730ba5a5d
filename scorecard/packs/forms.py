from django import forms

from scorecard.models import Stocktake


class PackRequestForm(forms.Form):
    """A pack of a published stocktake, or of live data as at a date (today if empty)."""

    stocktake = forms.ModelChoiceField(
        queryset=Stocktake.objects.none(),
        required=False,
        empty_label="Live data (no published stocktake)",
        label="Published stocktake",
    )
    as_at = forms.DateField(
        required=False,
        label="Live data as at (optional)",
        help_text="For example, 31/10/2017. Leave empty for today.",
        input_formats=["%d/%m/%Y", "%Y-%m-%d"],
    )

    def __init__(self, system, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stocktake"].queryset = Stocktake.objects.filter(
            system=system
        ).order_by("-published")

    def clean(self):
        data = super().clean()
        if data.get("stocktake") and data.get("as_at"):
            raise forms.ValidationError(
                "Choose a published stocktake or a date, not both."
            )
        return data
