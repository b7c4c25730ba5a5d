"""Idempotent writes: create what is missing, update only what differs, count both."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models


@dataclass
class SyncStats:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)

    @property
    def changes(self) -> int:
        return sum(self.created.values()) + sum(self.updated.values())

    def summary(self) -> str:
        if not self.changes:
            return "Nothing changed: the database already holds the seed data."
        names = sorted(set(self.created) | set(self.updated))
        return "\n".join(
            f"{name}: {self.created[name]} created, {self.updated[name]} updated"
            for name in names
        )


def _normalise(model: type[models.Model], name: str, value: Any) -> Any:
    field_ = model._meta.get_field(name)
    if isinstance(field_, models.DecimalField) and value is not None:
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-field_.decimal_places))
    if isinstance(field_, models.FloatField) and value is not None:
        return float(value)
    if isinstance(field_, models.CharField | models.TextField) and value is None:
        return ""
    return value


def sync(
    model: type[models.Model],
    stats: SyncStats,
    lookup: dict,
    values: dict | None = None,
) -> models.Model:
    """Make the row found by `lookup` hold `values`; write only when something differs."""
    values = {k: _normalise(model, k, v) for k, v in (values or {}).items()}
    label = model._meta.verbose_name_plural
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        instance.full_clean(validate_constraints=False)
        instance.save()
        stats.created[label] += 1
        return instance
    changed = [
        name for name, value in values.items() if getattr(instance, name) != value
    ]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        instance.full_clean(validate_constraints=False)
        update_fields = [model._meta.get_field(name).attname for name in changed]
        if any(f.name == "updated_at" for f in model._meta.fields):
            update_fields.append("updated_at")
        instance.save(update_fields=update_fields)
        stats.updated[label] += 1
    return instance


def sync_m2m(manager, wanted: list, stats: SyncStats, label: str) -> None:
    wanted_ids = {obj.pk for obj in wanted}
    if set(manager.values_list("pk", flat=True)) != wanted_ids:
        manager.set(wanted)
        stats.updated[label] += 1
