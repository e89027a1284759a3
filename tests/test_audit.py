"""The audit log: recording, the places that record, and the admin page."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select

from consultations.audit import services as audit
from consultations.audit.models import AuditEvent
from consultations.extensions import db


def test_record_flushes_and_the_request_commits(make_user, make_consultation):
    admin = make_user(role="admin")
    consultation = make_consultation()
    entry = audit.record(admin, "consultation.published", target=consultation, state="published")
    assert entry.id is not None  # flushed
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "consultation", consultation.id)
    db.session.rollback()  # not committed by record(): the caller decides
    assert db.session.scalar(select(AuditEvent)) is None
    audit.record(None, "system.checked", target=("summary", 7))
    db.session.commit()
    stored = db.session.scalar(select(AuditEvent))
    assert (stored.actor_id, stored.action, stored.target_type, stored.target_id) == (None, "system.checked", "summary", 7)


@pytest.mark.parametrize("key", ["email", "name", "display_name", "body", "ip", "user_agent", "title"])
def test_record_refuses_personal_data(make_user, key):
    with pytest.raises(audit.AuditError):
        audit.record(make_user(), "user.role_changed", **{key: "x"})


def test_role_and_organisation_changes_are_recorded(client, auth, make_user, make_org):
    admin = make_user(role="admin")
    person = make_user()
    org = make_org()
    auth.login(admin)
    client.post(f"/admin/users/{person.id}", data={"role": "organiser", "organisation_id": org.id})
    # Saving without change records nothing.
    client.post(f"/admin/users/{person.id}", data={"role": "organiser", "organisation_id": org.id})
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_id, e.target_id, e.details) for e in events] == [
        ("user.role_changed", admin.id, person.id, {"old": "participant", "new": "organiser"}),
        ("user.organisation_changed", admin.id, person.id, {"old": None, "new": org.id}),
    ]


def test_consultation_transitions_are_recorded(client, auth, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, state="draft")
    auth.login(organiser)
    client.post(f"/consultations/{consultation.id}/state/open")
    client.post(f"/consultations/{consultation.id}/state/published")  # illegal: nothing recorded
    events = db.session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.actor_id, e.target_type, e.target_id, e.details) for e in events] == [
        ("consultation.state_changed", organiser.id, "consultation", consultation.id, {"state": "open"})
    ]


def _events(n, actor=None, action="user.role_changed", start=None):
    start = start or datetime(2024, 2, 1, 12, 0)
    for i in range(n):
        db.session.add(
            AuditEvent(actor_id=getattr(actor, "id", actor), action=action, target_type="user", target_id=i,
                       details={"i": i}, created_at=start + timedelta(minutes=i))
        )
    db.session.commit()


def test_admin_page_paginates_and_filters(client, auth, make_user):
    admin = make_user(role="admin", name="Ada Admin")
    other = make_user(role="admin")
    _events(60, actor=admin)
    _events(3, actor=other, action="consultation.state_changed", start=datetime(2024, 3, 5, 9, 0))
    _events(1, actor=9999, action="account.deleted", start=datetime(2024, 3, 6, 9, 0))
    auth.login(admin)
    first = client.get("/admin/audit/").get_data(as_text=True)
    assert "64 events" in first and "Page 1 of 2" in first
    assert "Deleted account #9999" in first and "Ada Admin" in first
    html = client.get("/admin/audit/?action=consultation.state_changed").get_data(as_text=True)
    assert "3 events" in html
    html = client.get(f"/admin/audit/?actor={other.email}").get_data(as_text=True)
    assert "3 events" in html
    assert "1 event" in client.get("/admin/audit/?actor=9999").get_data(as_text=True)
    html = client.get("/admin/audit/?date_from=2024-03-05&date_to=2024-03-05").get_data(as_text=True)
    assert "3 events" in html
    html = client.get("/admin/audit/?date_from=2024-02-01&date_to=2024-02-01&action=user.role_changed&page=2").get_data(as_text=True)
    assert "60 events" in html and "Page 2 of 2" in html


def test_admin_page_bad_filters_show_messages_and_keep_values(client, auth, make_user):
    admin = make_user(role="admin")
    _events(2, actor=admin)
    auth.login(admin)
    cases = [
        ("?date_from=2024-13-45", "Not a valid date value"),
        ("?date_from=2024-03-05&date_to=2024-03-01", "end date is before the start date"),
        ("?actor=nobody@example.org", "No account has this e-mail address"),
        ("?action=no.such.action", "Not a valid choice"),
    ]
    for query, message in cases:
        response = client.get("/admin/audit/" + query)
        assert response.status_code == 200, query
        html = response.get_data(as_text=True)
        assert message in html, query
        assert "2 events" in html, query  # an invalid filter filters nothing
    html = client.get("/admin/audit/?actor=nobody@example.org").get_data(as_text=True)
    assert 'value="nobody@example.org"' in html
    assert client.get("/admin/audit/?page=abc").status_code == 200


def test_admin_page_query_count_is_constant(app, client, auth, make_user):
    admin = make_user(role="admin")
    auth.login(admin)
    actors = [make_user() for _ in range(5)]

    def count_queries(url):
        statements = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
        return len(statements)

    _events(2, actor=actors[0])
    few = count_queries("/admin/audit/")
    for actor in actors:
        _events(10, actor=actor)
    many = count_queries("/admin/audit/")
    assert many == few
    assert count_queries(f"/admin/audit/?actor={actors[1].email}") <= few + 1


def test_audit_page_for_admins_only(client, auth, make_user):
    auth.login(make_user(role="organiser"))
    assert client.get("/admin/audit/").status_code == 403
