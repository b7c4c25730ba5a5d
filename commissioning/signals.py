"""Signals of the project's own."""

from django.dispatch import Signal

# Sent (sender=the model) after rows were changed by a queryset UPDATE, which sends no
# post_save: the versioned edits of the workflow. The pages' cache listens.
rows_updated = Signal()
