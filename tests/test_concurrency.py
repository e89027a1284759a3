"""Many people at once: nothing lost, nothing stored twice, no "database is locked"
(SQLite in WAL mode with BEGIN IMMEDIATE for writes; PostgreSQL with MESA_TEST_DATABASE_URL)."""
import threading

from sqlalchemy import func, select

from consultations.contributions.models import Contribution
from consultations.contributions.services import open_anonymous_link
from consultations.extensions import db

from .conftest import PASSWORD


def _parallel(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.rollback()  # see what the other threads committed
    return results


def test_fifty_concurrent_contributions_all_stored_once(app, make_user, make_consultation):
    consultation = make_consultation()
    url = f"/consultations/{consultation.id}/contribute"
    clients = []
    for i in range(50):
        client = app.test_client()
        user = make_user()
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
        clients.append((i, client))

    def submit(i, client):
        return lambda: client.post(url, data={"kind": "proposal", "title": f"Proposal {i:02d}", "objectives": ["16"],
                                             "submission_key": f"key-{i:02d}"}).status_code

    codes = _parallel([submit(i, c) for i, c in clients])
    assert codes == [302] * 50
    titles = sorted(db.session.scalars(select(Contribution.title)))
    assert titles == [f"Proposal {i:02d}" for i in range(50)]


def test_twenty_identical_posts_store_one_row(app, make_user, make_consultation):
    consultation = make_consultation()
    user = make_user()
    url = f"/consultations/{consultation.id}/contribute"
    data = {"kind": "challenge", "title": "Double click", "objectives": ["1"], "submission_key": "the-same-form-once"}
    clients = []
    for _ in range(20):
        client = app.test_client()
        client.post("/login", data={"email": user.email, "password": PASSWORD})
        clients.append(client)
    codes = _parallel([lambda c=c: c.post(url, data=data).status_code for c in clients])
    assert codes == [302] * 20
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 1


def test_twenty_identical_anonymous_posts_store_one_row(app, make_consultation):
    consultation = make_consultation()
    token = open_anonymous_link(consultation)
    db.session.commit()
    data = {"category": "other", "kind": "challenge", "title": "Sent twice", "objectives": ["1"], "submission_key": "k" * 32}
    clients = [app.test_client() for _ in range(20)]
    codes = _parallel([lambda c=c: c.post(f"/c/{token}", data=data).status_code for c in clients])
    assert sorted(codes) == [200] * 19 + [201]
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 1


def test_a_resubmitted_form_leads_to_the_first_contribution(client, auth, make_user, make_consultation):
    consultation = make_consultation()
    auth.login(make_user())
    form = client.get(f"/consultations/{consultation.id}/contribute").get_data(as_text=True)
    import re

    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', form).group(1)
    data = {"kind": "challenge", "title": "Once", "objectives": ["1"], "submission_key": key}
    first = client.post(f"/consultations/{consultation.id}/contribute", data=data)
    second = client.post(f"/consultations/{consultation.id}/contribute", data=data, follow_redirects=True)
    assert "We had already received this contribution." in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 1
    assert first.headers["Location"] == f"/contributions/{db.session.scalar(select(Contribution.id))}"
