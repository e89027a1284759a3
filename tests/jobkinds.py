"""Job kinds for the tests of background jobs (registered in the test process and in
the worker that tests/jobworker.py starts): a job that takes its time in steps, and one
that fails until a marker file exists."""
from __future__ import annotations

import os
import time

from consultations.jobs.services import JobError, Kind, Output, register


def _steps(job, progress):
    params = job.params
    for step in range(params["steps"]):
        progress(step / params["steps"], "contributions")
        time.sleep(params["sleep"])
    return Output(data=b"x" * params.get("size", 1000), ext="txt", mimetype="text/plain",
                  disposition='attachment; filename="steps.txt"')


def _fails(job, progress):
    if not os.path.exists(job.params["marker"]):
        raise JobError("The test job failed on purpose.")
    return Output(data=b"made at last", ext="txt", mimetype="text/plain", disposition='attachment; filename="ok.txt"')


def _owner_only(job, user):
    return True


register("test.steps", Kind(run=_steps, may_see=_owner_only, label=lambda job: "Steps"))
register("test.fails", Kind(run=_fails, may_see=_owner_only, label=lambda job: "Fails"))
