from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# The largest id a bigint column holds: larger ones in a query would overflow the database.
MAX_BIGINT = 2**63 - 1
