"""Your data: the privacy notice, the JSON download, deleting an account."""
from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from consultations.accounts import services
from consultations.accounts.models import User
from consultations.audit.models import AuditEvent
from consultations.contributions.models import Contribution
from consultations.extensions import db
from consultations.roundtables.models import Registration, Roundtable

from .conftest import PASSWORD


def test_privacy_notice_is_linked_and_honest(client):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/privacy"' in home
    html = client.get("/privacy").get_data(as_text=True)
    for words in ("stakeholder category", "which account wrote it", "not available yet", "Delete your account", "Download"):
        assert words in html, words


def _roundtable(consultation, user, **fields):
    roundtable = Roundtable(
        consultation=consultation,
        title="Second roundtable",
        starts_at=datetime(2024, 6, 4, 8, 0),
        ends_at=datetime(2024, 6, 4, 10, 0),
    )
    db.session.add(roundtable)
    db.session.flush()
    registration = Registration(
        roundtable_id=roundtable.id,
        registered_by_id=user.id,
        name="Fatima Zahra",
        show_name=True,
        person_key="fatima zahra",
        stakeholder_category="migrant_association",
        **fields,
    )
    db.session.add(registration)
    db.session.commit()
    return roundtable, registration


def test_download_everything_about_me(client, auth, make_user, make_org, make_consultation, make_contribution):
    org = make_org(name="Casa de la Cultura", category="migrant_association")
    me = make_user(organisation=org, name="Fatima", email="fatima@example.org")
    someone = make_user()
    consultation = make_consultation()
    mine = make_contribution(consultation, author=me, title="My challenge")
    make_contribution(consultation, author=someone, title="Not mine")
    _, registration = _roundtable(consultation, me)
    auth.login(me)
    assert client.get("/account/data").status_code == 405  # a POST, so no other site can trigger it
    response = client.post("/account/data")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "fatima@example.org"
    assert data["account"]["display_name"] == "Fatima"
    assert "hash" not in json.dumps(data["account"]).replace("salted hash", "")
    assert me.password_hash not in response.get_data(as_text=True)
    assert data["organisation"]["name"] == "Casa de la Cultura"
    assert [c["id"] for c in data["contributions"]] == [mine.id]
    assert data["contributions"][0]["title"] == "My challenge"
    assert [r["id"] for r in data["roundtable_registrations"]] == [registration.id]
    assert data["roundtable_registrations"][0]["name"] == "Fatima Zahra"
    # The export itself is audited, without personal data.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.data_exported"))
    assert (event.actor_id, event.target_type, event.target_id) == (me.id, "user", me.id)
    assert "fatima" not in json.dumps(event.details).lower()


def test_download_needs_csrf_token(csrf_app, make_user):
    user = make_user()
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert client.post("/account/data").status_code == 400


def test_delete_account_keeping_contributions_anonymised(client, auth, make_user, make_org, make_consultation, make_contribution):
    org = make_org(name="Hidden Org")
    me = make_user(organisation=org)
    consultation = make_consultation()
    named = make_contribution(consultation, author=me, name_organisation=True)
    unnamed = make_contribution(consultation, author=me)
    _, registration = _roundtable(consultation, me)
    auth.login(me)
    response = client.post("/account/delete", data={"contributions": "keep", "password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, me.id) is None
    kept = {c.id: c for c in db.session.scalars(select(Contribution))}
    assert set(kept) == {named.id, unnamed.id}
    assert all(c.author_id is None for c in kept.values())
    assert all(c.stakeholder_category == "ngo" for c in kept.values())
    assert (kept[named.id].organisation_name, kept[named.id].organisation_id) == ("Hidden Org", org.id)
    assert (kept[unnamed.id].organisation_name, kept[unnamed.id].organisation_id) == (None, None)
    registration = db.session.get(Registration, registration.id)
    assert (registration.registered_by_id, registration.name, registration.show_name) == (None, "", False)
    assert registration.person_key == f"deleted:{registration.id}"
    assert registration.stakeholder_category == "migrant_association"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.deleted"))
    assert event.actor_id == me.id and event.details["contributions"] == "kept"
    # Logged out, and the old session does not come back.
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_delete_account_with_contributions(client, auth, make_user, make_consultation, make_contribution):
    me = make_user()
    other = make_user()
    consultation = make_consultation()
    make_contribution(consultation, author=me)
    challenge = make_contribution(consultation, author=me)
    captured = make_contribution(consultation, author=me, title="Said in the room")
    captured.captured = True
    theirs = make_contribution(consultation, author=other, kind="proposal", answers=[challenge.id])
    db.session.commit()
    auth.login(me)
    response = client.post("/account/delete", data={"contributions": "delete", "password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    remaining = {c.id: c for c in db.session.scalars(select(Contribution))}
    # Captured contributions record what others said: kept, without author.
    assert set(remaining) == {captured.id, theirs.id}
    assert remaining[captured.id].author_id is None
    assert remaining[theirs.id].answers == []


def test_delete_account_bad_inputs_keep_the_form(client, auth, make_user):
    me = make_user()
    auth.login(me)
    cases = [
        ({"contributions": "keep", "password": "wrong password!", "confirm": "y"}, "password is not right"),
        ({"contributions": "keep", "password": PASSWORD}, "Tick this box"),
        ({"contributions": "burn", "password": PASSWORD, "confirm": "y"}, "Not a valid choice"),
        ({"contributions": "keep", "confirm": "y"}, "Type your password"),
    ]
    for data, message in cases:
        response = client.post("/account/delete", data=data)
        assert response.status_code == 422, data
        html = response.get_data(as_text=True)
        assert message in html, data
    assert db.session.get(User, me.id) is not None
    # The choice is kept on re-render.
    html = client.post("/account/delete", data={"contributions": "delete"}).get_data(as_text=True)
    assert re.search(r'<input checked id="contributions-\d"[^>]*value="delete"', html)


def test_last_admin_cannot_delete_their_account(client, auth, make_user):
    admin = make_user(role="admin")
    auth.login(admin)
    page = client.get("/account/delete").get_data(as_text=True)
    assert "last administrator" in page
    response = client.post("/account/delete", data={"contributions": "keep", "password": PASSWORD, "confirm": "y"})
    assert response.status_code == 409
    assert db.session.get(User, admin.id) is not None
    with pytest.raises(services.AccountError, match="last administrator"):
        services.delete_account(admin, keep_contributions=True)
    # With a second admin it works.
    make_user(role="admin")
    services.delete_account(db.session.get(User, admin.id), keep_contributions=True)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.role == "admin")) == 1


def test_only_organiser_must_hand_over_first(make_user, make_consultation):
    organiser = make_user(role="organiser")
    make_consultation(organiser=organiser)
    assert "only organiser of 1 consultation" in services.deletion_refusal(organiser)
    from consultations.consultations.services import add_organiser

    consultation = make_consultation(organiser=organiser)
    add_organiser(consultation, make_user(role="organiser").email)
    db.session.commit()
    assert "only organiser of 1 consultation:" in services.deletion_refusal(organiser)
