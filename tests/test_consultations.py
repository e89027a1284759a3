from datetime import date

import pytest
from sqlalchemy import select

from consultations.consultations import services
from consultations.consultations.models import Consultation, IllegalTransition
from consultations.extensions import db


def _form(**overrides):
    data = {
        "title": "Jornada de consulta con la sociedad civil",
        "kind": "civil_society_day",
        "description": "Organised by the **Ministry**.",
        "territory": "Spain",
        "language": "es",
        "opens_on": "2024-02-15",
        "closes_on": "2024-02-15",
        "focus": ["8", "16"],
        "eligibility": "registered",
    }
    data.update(overrides)
    return data


def test_organiser_creates_a_draft_visible_to_organisers_only(app, client, auth, make_user):
    organiser = make_user(role="organiser")
    auth.login(organiser)
    response = client.post("/consultations/new", data=_form())
    assert response.status_code == 302
    consultation = db.session.scalar(select(Consultation))
    assert consultation.state == "draft"
    assert consultation.focus_numbers == [8, 16]
    assert consultation.language == "es"
    assert "<strong>Ministry</strong>" in consultation.description_html
    assert [o.id for o in consultation.organisers] == [organiser.id]
    assert "Jornada de consulta con la sociedad civil" in client.get(f"/consultations/{consultation.id}").get_data(as_text=True)

    other = app.test_client()
    assert other.get(f"/consultations/{consultation.id}").status_code == 404
    participant = make_user()
    other.post("/login", data={"email": participant.email, "password": "correct horse battery"})
    assert other.get(f"/consultations/{consultation.id}").status_code == 404
    assert "Jornada de consulta con la sociedad civil" not in other.get("/consultations/").get_data(as_text=True)


def test_participant_cannot_create(client, auth, make_user):
    auth.login(make_user())
    assert client.get("/consultations/new").status_code == 403
    assert client.post("/consultations/new", data=_form()).status_code == 403
    assert db.session.scalar(select(Consultation)) is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"title": ""}, "Give the consultation a title."),
        ({"title": "x" * 10_000}, "Field cannot be longer than 200 characters."),
        ({"closes_on": "2024-02-01"}, "closing date cannot be before the opening date"),
        ({"opens_on": "15/02/2024"}, "Give an opening date (YYYY-MM-DD)."),
        ({"focus": ["99"]}, "is not a valid choice for this field"),
        ({"focus": ["abc"]}, "could not be coerced"),
        ({"kind": "party"}, "Not a valid choice"),
        ({"eligibility": "invited"}, "Invite at least one organisation"),
        ({"description": "a" * 20_001}, "Field cannot be longer than 20000 characters."),
    ],
)
def test_consultation_bad_input_rerenders_with_values(client, auth, make_user, overrides, message):
    auth.login(make_user(role="organiser"))
    response = client.post("/consultations/new", data=_form(**overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    if overrides.get("title") != "" and "title" not in overrides:
        assert 'value="Jornada de consulta con la sociedad civil"' in html
    assert db.session.scalar(select(Consultation)) is None


def test_edit_consultation_and_invitations(client, auth, make_user, make_consultation, make_org):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, state="draft")
    org = make_org(name="Junta de Andalucía", category="public_administration", governance_level="regional")
    auth.login(organiser)
    form = client.get(f"/consultations/{consultation.id}/edit").get_data(as_text=True)
    assert consultation.title in form
    response = client.post(
        f"/consultations/{consultation.id}/edit",
        data=_form(title="Working day", eligibility="invited", invited=[str(org.id)], focus=["1"]),
    )
    assert response.status_code == 302
    db.session.expire_all()
    consultation = db.session.get(Consultation, consultation.id)
    assert consultation.title == "Working day"
    assert consultation.eligibility == "invited"
    assert [o.name for o in consultation.invited_organisations] == ["Junta de Andalucía"]
    assert consultation.focus_numbers == [1]


def test_other_organiser_cannot_edit(client, auth, make_user, make_consultation):
    consultation = make_consultation(state="open")
    auth.login(make_user(role="organiser"))
    assert client.get(f"/consultations/{consultation.id}/edit").status_code == 403
    assert client.post(f"/consultations/{consultation.id}/state/closed").status_code == 403
    draft = make_consultation(state="draft")
    assert client.get(f"/consultations/{draft.id}/edit").status_code == 404


def test_lifecycle_through_the_buttons(client, auth, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, state="draft")
    auth.login(organiser)
    for target in ("open", "closed", "published"):
        response = client.post(f"/consultations/{consultation.id}/state/{target}")
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(Consultation, consultation.id).state == target
    response = client.post(f"/consultations/{consultation.id}/state/draft", follow_redirects=True)
    assert "cannot go from published to draft" in response.get_data(as_text=True)


def test_illegal_transitions_raise(make_consultation):
    consultation = make_consultation(state="draft")
    with pytest.raises(IllegalTransition):
        services.change_state(consultation, "published")
    with pytest.raises(IllegalTransition):
        services.change_state(consultation, "nonsense")
    services.change_state(consultation, "open")
    services.change_state(consultation, "closed")
    services.change_state(consultation, "open")  # reopened before publication
    assert consultation.state == "open"


def test_several_organisers(client, auth, make_user, make_consultation):
    first = make_user(role="organiser")
    second = make_user(role="organiser", email="second@example.org")
    participant = make_user(email="p@example.org")
    consultation = make_consultation(organiser=first, state="draft")
    auth.login(first)
    response = client.post(f"/consultations/{consultation.id}/organisers", data={"email": "p@example.org"})
    assert response.status_code == 422
    assert "No organiser has this e-mail" in response.get_data(as_text=True)
    response = client.post(f"/consultations/{consultation.id}/organisers", data={"email": "SECOND@example.org"})
    assert response.status_code == 302
    auth.logout()
    auth.login(second)
    assert client.get(f"/consultations/{consultation.id}").status_code == 200
    assert client.get(f"/consultations/{consultation.id}/edit").status_code == 200
    response = client.post(f"/consultations/{consultation.id}/organisers/{first.id}/remove")
    assert response.status_code == 302
    db.session.expire_all()
    assert [o.id for o in db.session.get(Consultation, consultation.id).organisers] == [second.id]
    response = client.post(f"/consultations/{consultation.id}/organisers/{second.id}/remove", follow_redirects=True)
    assert "at least one organiser" in response.get_data(as_text=True)
    assert participant.id  # the participant was never added


def test_service_rejects_bad_dates_and_objectives(make_user):
    organiser = make_user(role="organiser")
    base = dict(title="T", kind="online_call", opens_on=date(2024, 3, 1), closes_on=date(2024, 2, 1))
    with pytest.raises(services.ConsultationError):
        services.create_consultation(organiser, **base)
    base["closes_on"] = date(2024, 4, 1)
    with pytest.raises(services.ConsultationError):
        services.create_consultation(organiser, focus=[24], **base)


def test_consultation_list_is_paginated_and_filtered(client, make_consultation):
    for i in range(25):
        make_consultation(title=f"Open {i:02d}", state="open")
    make_consultation(title="Closed one", state="closed", kind="local_council")
    page1 = client.get("/consultations/").get_data(as_text=True)
    assert "26 consultations" in page1
    assert "Page 1 of 2" in page1
    closed = client.get("/consultations/?state=closed").get_data(as_text=True)
    assert "Closed one" in closed and "Open 01" not in closed
    councils = client.get("/consultations/?kind=local_council&q=closed").get_data(as_text=True)
    assert "1 consultation" in councils
    assert client.get("/consultations/?state=draft").status_code == 200  # invalid filter ignored
    assert client.get("/consultations/?page=abc").status_code == 200


def test_home_lists_open_and_recent(client, make_consultation):
    make_consultation(title="Open now", state="open")
    make_consultation(title="Finished", state="published")
    make_consultation(title="Secret draft", state="draft")
    html = client.get("/").get_data(as_text=True)
    assert "Open now" in html and "Finished" in html
    assert "Secret draft" not in html
