from django import forms

from indicators.models import ImportJob


class UploadForm(forms.Form):
    system = forms.ModelChoiceField(
        queryset=None,
        empty_label=None,
        help_text="The commissioning system the values are for.",
    )
    file = forms.FileField(
        label="File",
        help_text="A CSV file or an Excel workbook (.xlsx).",
    )
    file_format = forms.ChoiceField(
        label="Format",
        choices=ImportJob.Format.choices,
        initial=ImportJob.Format.AUTO,
    )
    sheet = forms.CharField(
        label="Sheet (Excel only, optional)",
        required=False,
        max_length=300,
        help_text="Leave blank to read every sheet with a recognised header row.",
    )
    create_missing_indicators = forms.BooleanField(
        label="Create Fingertips indicators this system does not have yet",
        required=False,
        help_text=(
            "For a Fingertips download: an unknown indicator is added (not yet in any "
            "strategy) so its national values can be brought in and benchmarked."
        ),
    )

    def __init__(self, *args, systems, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["system"].queryset = systems


class CommitForm(forms.Form):
    fingerprint = forms.CharField(max_length=64, widget=forms.HiddenInput)
