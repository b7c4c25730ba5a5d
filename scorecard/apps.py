from django.apps import AppConfig


class ScorecardConfig(AppConfig):
    name = "scorecard"
    verbose_name = "Scorecard"

    def ready(self) -> None:
        from scorecard.cache import connect_signals

        connect_signals()
