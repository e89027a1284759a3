import re

import pytest
from sqlalchemy import func, select

from consultations.accounts import services
from consultations.accounts.models import User
from consultations.extensions import db
from consultations.organisations.models import Organisation

from .conftest import PASSWORD


def _register(client, **overrides):
    data = {
        "email": "amina@example.org",
        "display_name": "Amina",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "acts_as": "individual",
        "individual_category": "other",
        "organisation_name": "",
        "organisation_category": "ngo",
        "governance_level": "",
    }
    data.update(overrides)
    return client.post("/register", data=data)


@pytest.fixture
def mailbox(app):
    from consultations.mail import outbox

    app.config["MESA_MAIL_BACKEND"] = "memory"
    box = outbox()
    box.clear()
    return box


def _link(mail, path):
    match = re.search(r"http://localhost(" + re.escape(path) + r"[^\s]+)", mail.body)
    assert match, mail.body
    return match.group(1)


@pytest.mark.real_password_hashing
def test_register_as_individual_confirms_by_email_then_logs_in(client, mailbox):
    response = _register(client)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Check your e-mail" in client.get("/login").get_data(as_text=True)
    user = db.session.scalar(select(User).where(User.email == "amina@example.org"))
    assert user.role == "participant"
    assert user.organisation is None
    assert user.email_confirmed_at is None
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash
    # Not usable before the address is confirmed.
    response = client.post("/login", data={"email": "amina@example.org", "password": PASSWORD})
    assert response.status_code == 422
    assert "Confirm your e-mail address first" in response.get_data(as_text=True)
    [mail] = mailbox
    assert mail.to == "amina@example.org"
    link = _link(mail, "/register/confirm/")
    assert client.get(link).status_code == 302
    assert client.get(link).status_code == 404  # once only
    response = client.post("/login", data={"email": "amina@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert "Log out" in client.get("/").get_data(as_text=True)


def test_register_existing_email_answers_the_same_and_mails_the_owner(app, make_user, mailbox):
    owner = make_user(email="taken@example.org")
    known = _register(app.test_client(), email="TAKEN@example.org", acts_as="organisation", organisation_name="New Org")
    unknown = _register(app.test_client(), email="fresh@example.org", acts_as="organisation", organisation_name="Other Org")
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    # No second account and no organisation for the known address.
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == "taken@example.org")) == 1
    assert db.session.scalar(select(Organisation).where(Organisation.name == "New Org")) is None
    assert db.session.get(User, owner.id).display_name == owner.display_name
    to_owner, to_new = mailbox
    assert to_owner.to == "taken@example.org" and "already have one" in to_owner.body
    assert "/password/forgot" in to_owner.body
    assert to_new.to == "fresh@example.org" and "/register/confirm/" in to_new.body


def test_register_again_while_unconfirmed_sends_a_new_link(client, mailbox):
    _register(client)
    _register(client, display_name="Someone else")
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(User)).display_name == "Amina"
    first, second = mailbox
    assert "asked again" in second.body
    assert client.get(_link(second, "/register/confirm/")).status_code == 302
    assert db.session.scalar(select(User)).email_confirmed_at is not None


def test_register_for_new_public_administration(client):
    response = _register(
        client,
        acts_as="organisation",
        organisation_name="Diputación de Guadalajara",
        organisation_category="public_administration",
        governance_level="provincial",
    )
    assert response.status_code == 302
    org = db.session.scalar(select(Organisation))
    assert (org.name, org.category, org.governance_level) == (
        "Diputación de Guadalajara",
        "public_administration",
        "provincial",
    )
    user = db.session.scalar(select(User))
    assert user.organisation_id == org.id
    assert user.stakeholder_category == "public_administration"
    assert user.governance_level == "provincial"


def test_register_public_administration_without_level_is_refused_and_keeps_values(client):
    response = _register(
        client,
        acts_as="organisation",
        organisation_name="Ayuntamiento de Sigüenza",
        organisation_category="public_administration",
        governance_level="",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "needs its governance level" in html
    assert 'value="Ayuntamiento de Sigüenza"' in html
    assert 'value="amina@example.org"' in html
    assert db.session.scalar(select(User)) is None
    assert db.session.scalar(select(Organisation)) is None


def test_register_existing_organisation_name_is_refused_nothing_half_saved(client, make_org):
    make_org(name="Fundación CEPAIM")
    response = _register(client, acts_as="organisation", organisation_name="fundación cepaim")
    assert response.status_code == 422
    assert "already registered" in response.get_data(as_text=True)
    assert db.session.scalar(select(User)) is None


def test_register_bad_inputs(client, make_user):
    make_user(email="taken@example.org")
    cases = [
        ({"email": "not-an-email"}, "Invalid email"),
        ({"password": "short", "confirm": "short"}, "at least 10"),
        ({"confirm": "something else entirely"}, "passwords differ"),
        ({"password": "qwertyuiop", "confirm": "qwertyuiop"}, "most commonly used"),
        ({"password": "amina@example.org", "confirm": "amina@example.org"}, "e-mail address as your password"),
        ({"display_name": ""}, "This field is required"),
        ({"acts_as": "organisation", "organisation_name": ""}, "name of your organisation"),
    ]
    for overrides, message in cases:
        response = _register(client, **overrides)
        assert response.status_code == 422, overrides
        assert message in response.get_data(as_text=True), overrides


def test_login_and_logout(client, auth, make_user):
    user = make_user()
    response = auth.login(user)
    assert response.status_code == 302
    assert "Log out" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_login_same_message_for_unknown_user_and_wrong_password(client, auth, make_user):
    user = make_user()
    wrong = auth.login(user, "wrong password!")
    unknown = auth.login("nobody@example.org")
    assert wrong.status_code == unknown.status_code == 422
    assert "E-mail or password is not right." in wrong.get_data(as_text=True)
    assert "E-mail or password is not right." in unknown.get_data(as_text=True)


def test_login_next_only_follows_local_paths(client, make_user):
    user = make_user()
    response = client.post("/login?next=https://evil.example/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/objectives/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/objectives/"


def test_old_session_cookie_refused_after_logout(app, make_user):
    user = make_user()
    first = app.test_client()
    first.post("/login", data={"email": user.email, "password": PASSWORD})
    stolen = first.get_cookie("session").value
    first.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert "Log out" not in replay.get("/").get_data(as_text=True)


def test_password_change_ends_other_sessions(app, make_user):
    user = make_user()
    a, b = app.test_client(), app.test_client()
    for c in (a, b):
        c.post("/login", data={"email": user.email, "password": PASSWORD})
    response = a.post(
        "/account",
        data={"current_password": PASSWORD, "new_password": "a brand new secret", "confirm": "a brand new secret"},
    )
    assert response.status_code == 302
    assert "Log out" in a.get("/").get_data(as_text=True)
    assert "Log out" not in b.get("/").get_data(as_text=True)


def test_password_change_wrong_current(client, auth, make_user):
    user = make_user()
    auth.login(user)
    response = client.post(
        "/account", data={"current_password": "not it at all", "new_password": "x" * 12, "confirm": "x" * 12}
    )
    assert response.status_code == 422
    assert "current password is not right" in response.get_data(as_text=True)


def test_admin_changes_role_and_organisation(client, auth, make_user, make_org):
    admin = make_user(role="admin")
    person = make_user()
    org = make_org(name="CCOO", category="trade_union")
    auth.login(admin)
    assert person.email in client.get("/admin/users").get_data(as_text=True)
    response = client.post(f"/admin/users/{person.id}", data={"role": "organiser", "organisation_id": org.id})
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, person.id)
    assert person.role == "organiser"
    assert person.organisation_id == org.id


def test_admin_tampered_role_refused(client, auth, make_user):
    admin = make_user(role="admin")
    person = make_user()
    auth.login(admin)
    response = client.post(f"/admin/users/{person.id}", data={"role": "superuser", "organisation_id": 0})
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)


def test_last_admin_cannot_demote_themselves(client, auth, make_user):
    admin = make_user(role="admin")
    auth.login(admin)
    response = client.post(f"/admin/users/{admin.id}", data={"role": "participant", "organisation_id": 0})
    assert response.status_code == 422
    assert "last administrator" in response.get_data(as_text=True)


def test_create_admin_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-admin", "--email", "Root@Example.org", "--name", "Root", "--password", "long enough pw"]
    )
    assert result.exit_code == 0, result.output
    user = services.authenticate("root@example.org", "long enough pw")
    assert user is not None and user.role == "admin"
    result = runner.invoke(args=["create-admin", "--email", "x@example.org", "--name", "X", "--password", "short"])
    assert result.exit_code != 0
    assert "at least 10" in result.output


def test_users_page_paginated(client, auth, make_user):
    admin = make_user(role="admin", name="Aaa Admin")
    for i in range(55):
        make_user(name=f"Person {i:02d}")
    auth.login(admin)
    first = client.get("/admin/users").get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "Person 54" in second and "Person 54" not in first
