"""Issue 5, points 1, 2 and 4: contributing without an account, on behalf of others,
and moderation."""
import logging
import re
from datetime import datetime, time

import pytest
from sqlalchemy import func, inspect, select

from consultations.audit.models import AuditEvent
from consultations.contributions import services
from consultations.contributions.models import Contribution, Flag
from consultations.extensions import db
from consultations.moderation import services as moderation

from .conftest import PASSWORD


def _login(app, user):
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def _anonymous_form(**overrides):
    data = {"category": "migrant_association", "level": "", "kind": "challenge", "title": "Fear of going to the doctor",
            "body": "People without papers do not go to the health centre.", "objectives": ["15", "7"]}
    data.update(overrides)
    return data


@pytest.fixture
def linked(make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    token = services.open_anonymous_link(consultation)
    db.session.commit()
    return consultation, token, organiser


# -- 1. anonymous contribution -------------------------------------------------------

def test_anonymous_contribution_stores_no_identity(app, linked, caplog):
    consultation, token, _ = linked
    client = app.test_client()
    assert client.get(f"/c/{token}").status_code == 200
    response = client.post(f"/c/{token}", data=_anonymous_form(), headers={"User-Agent": "Identifying-Agent/1.0"},
                           environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    code = re.search(r"<code>([^<]+)</code>", html).group(1)
    contribution = db.session.scalar(select(Contribution))
    assert contribution.anonymous and contribution.author_id is None and contribution.organisation_id is None
    assert contribution.stakeholder_category == "migrant_association"
    assert contribution.created_at.time() == time(0, 0)  # the date only
    assert contribution.updated_at.time() == time(0, 0)
    assert contribution.edit_code_hash and code not in contribution.edit_code_hash
    # Nothing in any column of the row mentions the address or the user agent.
    row = {c.key: getattr(contribution, c.key) for c in inspect(Contribution).mapper.column_attrs}
    assert "203.0.113.77" not in repr(row) and "Identifying-Agent" not in repr(row)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
    # It counts like any other contribution.
    assert "Fear of going to the doctor" in client.get(f"/consultations/{consultation.id}").get_data(as_text=True)


def test_access_log_omits_the_address_on_the_anonymous_route():
    from consultations.web import AnonymousRouteLogFilter

    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1,
                               '%s - - [23/Nov/2026 10:00:00] "%s" %s -', ("203.0.113.77", "POST /c/abc HTTP/1.1", 201), None)
    AnonymousRouteLogFilter().filter(record)
    assert "203.0.113.77" not in record.getMessage()
    assert "POST /c/abc" in record.getMessage()
    other = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - "%s"', ("198.51.100.1", "GET / HTTP/1.1"), None)
    AnonymousRouteLogFilter().filter(other)
    assert "198.51.100.1" in other.getMessage()


def test_gunicorn_access_log_has_no_client_address():
    from pathlib import Path

    namespace = {}
    exec((Path(__file__).resolve().parents[1] / "gunicorn.conf.py").read_text(), namespace)
    assert "%(h)s" not in namespace["access_log_format"] and "%(r)s" in namespace["access_log_format"]


def test_anonymous_edit_and_withdraw_with_the_code(app, linked):
    consultation, token, _ = linked
    client = app.test_client()
    html = client.post(f"/c/{token}", data=_anonymous_form()).get_data(as_text=True)
    code = re.search(r"<code>([^<]+)</code>", html).group(1)
    contribution = db.session.scalar(select(Contribution))
    url = f"/contributions/{contribution.id}/code"
    response = client.post(url, data=_anonymous_form(code="wrong-code", title="Changed"))
    assert response.status_code == 422
    assert "This code does not match this contribution." in response.get_data(as_text=True)
    assert client.post(url, data=_anonymous_form(code=code, title="Changed")).status_code == 302
    db.session.expire_all()
    assert db.session.get(Contribution, contribution.id).title == "Changed"
    assert client.post(url, data=_anonymous_form(code=code, action="withdraw")).status_code == 302
    db.session.expire_all()
    assert db.session.get(Contribution, contribution.id).status == "withdrawn"
    response = client.post(url, data=_anonymous_form(code=code, title="Again"))
    assert response.status_code == 422 and "can no longer be changed" in response.get_data(as_text=True)


def test_anonymous_link_rotated_revoked_and_closed(app, linked):
    consultation, token, organiser = linked
    client = _login(app, organiser)
    client.post(f"/consultations/{consultation.id}/anonymous-link/open")
    db.session.expire_all()
    new_token = db.session.get(type(consultation), consultation.id).anonymous_token
    assert new_token and new_token != token
    anonymous = app.test_client()
    assert anonymous.get(f"/c/{token}").status_code == 404
    assert anonymous.get(f"/c/{new_token}").status_code == 200
    client.post(f"/consultations/{consultation.id}/anonymous-link/revoke")
    assert anonymous.get(f"/c/{new_token}").status_code == 404
    assert anonymous.post(f"/c/{new_token}", data=_anonymous_form()).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 0
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["consultation.anonymous_link_opened", "consultation.anonymous_link_revoked"]


def test_anonymous_on_a_closed_consultation_is_refused(app, linked):
    from consultations.consultations.services import change_state

    consultation, token, _ = linked
    change_state(consultation, "closed")
    db.session.commit()
    assert app.test_client().post(f"/c/{token}", data=_anonymous_form()).status_code == 403


@pytest.mark.parametrize("overrides, message", [
    ({"objectives": []}, "Tag at least one GCM objective."),
    ({"category": "spy"}, "Not a valid choice"),
    ({"category": "ngo", "level": "regional"}, "Only public administrations have a governance level."),
    ({"title": ""}, "Give your contribution a title."),
])
def test_anonymous_bad_input(app, linked, overrides, message):
    _, token, _ = linked
    response = app.test_client().post(f"/c/{token}", data=_anonymous_form(**overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 0


# -- 2. on behalf of others --------------------------------------------------------------

def test_association_submits_on_behalf_of_people_without_account(app, make_user, make_org, make_consultation):
    association = make_org(name="Asociación Senegalesa", category="diaspora_organisation")
    member = make_user(organisation=association)
    consultation = make_consultation()
    client = _login(app, member)
    form = client.get(f"/consultations/{consultation.id}/contribute").get_data(as_text=True)
    assert "On behalf of others" in form
    data = {"kind": "challenge", "title": "Long waits for appointments", "objectives": ["4"], "on_behalf": "y",
            "on_behalf_note": "collected at our meeting of 3 May", "on_behalf_category": "migrant_association"}
    response = client.post(f"/consultations/{consultation.id}/contribute", data={**data, "on_behalf_note": ""})
    assert response.status_code == 422 and "Say where the input was collected" in response.get_data(as_text=True)
    assert client.post(f"/consultations/{consultation.id}/contribute", data=data).status_code == 302
    contribution = db.session.scalar(select(Contribution))
    assert contribution.on_behalf and contribution.on_behalf_note == "collected at our meeting of 3 May"
    assert contribution.stakeholder_category == "migrant_association"
    assert contribution.organisation_name == "Asociación Senegalesa"  # the intermediary
    page = app.test_client().get(f"/contributions/{contribution.id}").get_data(as_text=True)
    assert "collected by an association" in page and "Asociación Senegalesa" not in page


def test_only_migrant_and_diaspora_associations_relay(app, make_user, make_org, make_consultation):
    member = make_user(organisation=make_org(category="ngo"))
    consultation = make_consultation()
    client = _login(app, member)
    assert "On behalf of others" not in client.get(f"/consultations/{consultation.id}/contribute").get_data(as_text=True)
    with pytest.raises(services.ContributionError, match="migrant or diaspora"):
        services.submit_contribution(consultation, member, kind="challenge", title="t", objectives=[1],
                                     on_behalf=True, on_behalf_note="x")


# -- 4. moderation --------------------------------------------------------------------------

def test_flag_hide_restore_with_audit(app, make_user, make_consultation, make_contribution):
    organiser = make_user(role="organiser")
    author = make_user()
    consultation = make_consultation(organiser=organiser)
    contribution = make_contribution(consultation, author=author, title="Offensive text")
    anyone = app.test_client()
    assert anyone.post(f"/contributions/{contribution.id}/flag", data={"reason": ""}).status_code == 422
    assert anyone.post(f"/contributions/{contribution.id}/flag", data={"reason": "Insults a group"}).status_code == 302
    flag = db.session.scalar(select(Flag))
    assert flag.reason == "Insults a group" and not flag.resolved

    client = _login(app, organiser)
    queue = client.get(f"/consultations/{consultation.id}/moderation").get_data(as_text=True)
    assert "Offensive text" in queue and "Insults a group" in queue and "1 report" in queue
    response = client.post(f"/contributions/{contribution.id}/hide", data={"reason": ""}, follow_redirects=True)
    assert "Give the reason, for the author." in response.get_data(as_text=True)
    assert client.post(f"/contributions/{contribution.id}/hide", data={"reason": "Breaks the rules on respect"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Contribution, contribution.id).status == "hidden"
    assert db.session.get(Flag, flag.id).resolved
    assert "Offensive text" not in anyone.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert anyone.get(f"/contributions/{contribution.id}").status_code == 404
    author_client = _login(app, author)
    assert "Breaks the rules on respect" in author_client.get(f"/contributions/{contribution.id}").get_data(as_text=True)
    assert client.post(f"/contributions/{contribution.id}/restore").status_code == 302
    assert "Offensive text" in anyone.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["contribution.hidden", "contribution.restored"]
    assert all(e.actor_id == organiser.id for e in events)


def test_premoderation(app, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    client = _login(app, organiser)
    assert client.post(f"/consultations/{consultation.id}/premoderation/on").status_code == 302
    participant = _login(app, make_user())
    response = participant.post(f"/consultations/{consultation.id}/contribute",
                                data={"kind": "proposal", "title": "Waiting one", "objectives": ["1"]}, follow_redirects=True)
    assert "once an organiser approves it" in response.get_data(as_text=True)
    contribution = db.session.scalar(select(Contribution))
    assert contribution.status == "pending"
    public = app.test_client()
    assert "Waiting one" not in public.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "Waiting one" in client.get(f"/consultations/{consultation.id}/moderation").get_data(as_text=True)
    assert client.post(f"/contributions/{contribution.id}/approve").status_code == 302
    assert "Waiting one" in public.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["consultation.premoderation_changed", "contribution.approved"]


def test_moderation_is_for_organisers_of_the_consultation(app, make_user, make_consultation, make_contribution):
    consultation = make_consultation()
    contribution = make_contribution(consultation)
    client = _login(app, make_user(role="organiser"))
    assert client.get(f"/consultations/{consultation.id}/moderation").status_code == 403
    assert client.post(f"/contributions/{contribution.id}/hide", data={"reason": "x"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Contribution, contribution.id).status == "active"


def test_moderation_service_rules(make_user, make_consultation, make_contribution):
    organiser = make_user(role="organiser")
    contribution = make_contribution(make_consultation(organiser=organiser))
    with pytest.raises(moderation.ModerationError):
        moderation.restore(contribution, organiser)
    with pytest.raises(moderation.ModerationError):
        moderation.approve(contribution, organiser)
    with pytest.raises(moderation.ModerationError):
        moderation.dismiss_flags(contribution, organiser)
    with pytest.raises(moderation.ModerationError):
        moderation.hide(contribution, organiser, "   ")
