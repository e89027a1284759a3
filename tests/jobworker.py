"""A real worker process for tests/test_jobs.py: the app from the environment, the test
job kinds, and the same consumer as ``flask --app app worker``."""
from consultations import create_app
from consultations.jobs import queue

from tests import jobkinds  # noqa: F401  (register the test kinds)

if __name__ == "__main__":
    queue.run_worker(create_app(), workers=1)
