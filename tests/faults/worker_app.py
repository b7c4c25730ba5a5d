"""The project's Celery app for the fault tests' workers, with a short visibility timeout
(FAULTS_VISIBILITY_TIMEOUT seconds) and frequent sweeps for unacknowledged messages, so
that a task whose worker was killed is delivered again within seconds instead of an hour.
FAULTS_BATCH_SERIES, if set, is the number of series a queued recompute writes per
transaction (production: 5,000), so that a small test recompute still has several
chunks to be killed between. Everything else is the project's configuration."""

import os

from celery.signals import worker_ready

from commissioning.celery import app

visibility_timeout = float(os.environ.get("FAULTS_VISIBILITY_TIMEOUT", "3600"))
app.conf.broker_transport_options = {
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
    "visibility_timeout": visibility_timeout,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

if os.environ.get("FAULTS_BATCH_SERIES"):

    @worker_ready.connect(weak=False)
    def _smaller_chunks(**kwargs) -> None:
        from scorecard.services import recompute

        recompute.BATCH_SERIES = int(os.environ["FAULTS_BATCH_SERIES"])


__all__ = ["app"]
