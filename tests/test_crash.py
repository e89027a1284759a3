"""A process killed with SIGKILL in the middle of a burst of writes loses no committed
contribution and leaves the database consistent (SQLite, and PostgreSQL with
MESA_TEST_DATABASE_URL)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from sqlalchemy import func, select, text

from consultations.contributions.models import Contribution, ContributionObjective
from consultations.extensions import db

WRITER = textwrap.dedent(
    """
    import sys
    from consultations import create_app
    from consultations.extensions import db
    from consultations.accounts.models import User
    from consultations.consultations.models import Consultation
    from consultations.contributions.services import submit_contribution

    app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SECRET_KEY": "crash-test"})
    with app.app_context():
        author = db.session.get(User, int(sys.argv[2]))
        consultation = db.session.get(Consultation, int(sys.argv[3]))
        n = 0
        while True:
            n += 1
            c = submit_contribution(consultation, author, kind="challenge", title=f"Burst {n}",
                                    body="x" * 2000, objectives=[1, 2, 3])
            db.session.commit()
            print(c.id, flush=True)
    """
)


def test_sigkill_during_a_burst_of_writes(app, database_url, make_user, make_consultation, tmp_path):
    author = make_user()
    consultation = make_consultation()
    env = {**os.environ, "MESA_INSTANCE_PATH": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, database_url, str(author.id), str(consultation.id)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )
    committed: list[int] = []
    deadline = time.monotonic() + 60
    try:
        while len(committed) < 40 and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            committed.append(int(line))
        time.sleep(0.05)  # let it be in the middle of the next write
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
        process.stdout.close()
        stderr = process.stderr.read()
        process.stderr.close()
    assert len(committed) == 40, stderr
    assert process.returncode == -signal.SIGKILL

    db.session.rollback()
    db.engine.dispose()
    stored = set(db.session.scalars(select(Contribution.id)))
    assert set(committed) <= stored  # every committed contribution survived
    # Consistent: each stored contribution has all its objective tags, none dangling.
    tags = dict(db.session.execute(
        select(ContributionObjective.contribution_id, func.count()).group_by(ContributionObjective.contribution_id)
    ).all())
    assert all(tags.get(cid) == 3 for cid in stored)
    assert set(tags) <= stored
    if db.engine.dialect.name == "sqlite":
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
