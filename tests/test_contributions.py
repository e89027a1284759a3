import re

import pytest
from sqlalchemy import func, select

from consultations.contributions import services
from consultations.contributions.models import Contribution
from consultations.extensions import db


def _form(**overrides):
    data = {
        "kind": "proposal",
        "title": "Rural car-sharing between villages",
        "body": "Enhanced mobility via **rural cars**.",
        "objectives": ["15", "16"],
        "principles": ["whole-of-society"],
    }
    data.update(overrides)
    return data


def _count():
    return db.session.scalar(select(func.count()).select_from(Contribution))


def test_participant_submits_tagged_proposal_with_org_snapshot(app, client, auth, make_user, make_org, make_consultation):
    org = make_org(name="Asociación Rumiñahui", category="migrant_association")
    user = make_user(organisation=org)
    consultation = make_consultation(state="open")
    auth.login(user)
    assert client.get(f"/consultations/{consultation.id}/contribute").status_code == 200
    response = client.post(f"/consultations/{consultation.id}/contribute", data=_form(name_organisation="y"))
    assert response.status_code == 302
    contribution = db.session.scalar(select(Contribution))
    assert response.headers["Location"] == f"/contributions/{contribution.id}"
    assert contribution.objective_numbers == [15, 16]
    assert contribution.principle_keys == ["whole-of-society"]
    assert contribution.stakeholder_category == "migrant_association"
    assert contribution.organisation_name == "Asociación Rumiñahui"
    assert contribution.name_organisation is True
    assert "<strong>rural cars</strong>" in contribution.body_html

    # Later changes to the organisation do not rewrite what was recorded.
    org.category = "ngo"
    org.name = "Renamed"
    db.session.commit()
    db.session.expire_all()
    contribution = db.session.get(Contribution, contribution.id)
    assert contribution.stakeholder_category == "migrant_association"
    assert contribution.organisation_name == "Asociación Rumiñahui"

    page = app.test_client().get(f"/contributions/{contribution.id}").get_data(as_text=True)
    assert "Rural car-sharing between villages" in page
    assert "Asociación Rumiñahui" in page
    assert user.display_name not in page and user.email not in page


def test_organisation_not_named_without_consent(client, auth, make_user, make_org, make_consultation):
    org = make_org(name="Fundación Discreta", category="ngo")
    user = make_user(organisation=org)
    consultation = make_consultation()
    auth.login(user)
    client.post(f"/consultations/{consultation.id}/contribute", data=_form())
    contribution = db.session.scalar(select(Contribution))
    assert contribution.name_organisation is False
    assert contribution.voice == "NGO"
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "Fundación Discreta" not in html
    assert "NGO" in html


def test_individual_contributes_with_own_category(client, auth, make_user, make_consultation):
    user = make_user(individual_category="academia")
    consultation = make_consultation()
    auth.login(user)
    client.post(f"/consultations/{consultation.id}/contribute", data=_form(kind="challenge"))
    contribution = db.session.scalar(select(Contribution))
    assert contribution.stakeholder_category == "academia"
    assert contribution.organisation_id is None


def test_proposal_answers_challenges_and_challenge_shows_them(client, auth, make_user, make_consultation, make_contribution):
    consultation = make_consultation()
    challenge = make_contribution(consultation, kind="challenge", title="Mobility difficulties")
    other = make_consultation()
    foreign = make_contribution(other, kind="challenge", title="Elsewhere")
    auth.login(make_user())
    form = client.get(f"/consultations/{consultation.id}/contribute?answers={challenge.id}").get_data(as_text=True)
    # The picker shows the challenge chosen, ticked (a checkbox since issue 14, no longer a <select>).
    assert re.search(rf'<input checked id="answers-\d+" name="answers" type="checkbox" value="{challenge.id}">', form)
    response = client.post(
        f"/consultations/{consultation.id}/contribute", data=_form(answers=[str(challenge.id)])
    )
    assert response.status_code == 302
    proposal = db.session.scalar(select(Contribution).where(Contribution.kind == "proposal"))
    assert [c.id for c in proposal.answers] == [challenge.id]
    page = client.get(f"/contributions/{challenge.id}").get_data(as_text=True)
    assert "Proposals that answer this challenge" in page
    assert "Rural car-sharing between villages" in page

    # A challenge of another consultation cannot be answered (tampered id).
    response = client.post(
        f"/consultations/{consultation.id}/contribute", data=_form(title="X", answers=[str(foreign.id)])
    )
    assert response.status_code == 422
    assert _count() == 3


def test_only_proposals_answer(make_user, make_consultation, make_contribution):
    consultation = make_consultation()
    challenge = make_contribution(consultation, kind="challenge")
    with pytest.raises(services.ContributionError, match="Only a proposal"):
        services.submit_contribution(
            consultation, make_user(), kind="good_practice", title="t", objectives=[1], answers=[challenge.id]
        )


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"objectives": []}, "Tag at least one GCM objective."),
        ({"objectives": ["24"]}, "is not a valid choice for this field"),
        ({"objectives": ["1; DROP TABLE contributions"]}, "Tag at least one GCM objective."),
        ({"title": ""}, "Give your contribution a title."),
        ({"title": "t" * 10_000}, "Field cannot be longer than 200 characters."),
        ({"kind": "rant"}, "Not a valid choice"),
        ({"principles": ["made-up"]}, "is not a valid choice for this field"),
        ({"body": "b" * 20_001}, "Field cannot be longer than 20000 characters."),
        ({"title": "nul\x00byte"}, "control characters"),
    ],
)
def test_contribution_bad_input(client, auth, make_user, make_consultation, overrides, message):
    consultation = make_consultation()
    auth.login(make_user())
    response = client.post(f"/consultations/{consultation.id}/contribute", data=_form(**overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if "body" not in overrides:
        assert "Enhanced mobility via **rural cars**." in html  # what was typed is kept
    assert _count() == 0


@pytest.mark.parametrize("state, code", [("draft", 404), ("closed", 403), ("published", 403)])
def test_contribution_refused_unless_open(client, auth, make_user, make_consultation, state, code):
    consultation = make_consultation(state=state)
    auth.login(make_user())
    response = client.post(f"/consultations/{consultation.id}/contribute", data=_form())
    assert response.status_code == code
    if code == 403:
        assert "not open for contributions" in response.get_data(as_text=True)
    assert _count() == 0


def test_anonymous_is_sent_to_login(client, make_consultation):
    consultation = make_consultation()
    response = client.get(f"/consultations/{consultation.id}/contribute")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_invited_only(client, auth, make_user, make_org, make_consultation):
    invited = make_org(name="Generalitat Valenciana", category="public_administration", governance_level="regional")
    outsider = make_org(name="Some NGO")
    consultation = make_consultation(eligibility="invited", invited=[invited])
    auth.login(make_user(organisation=outsider))
    response = client.post(f"/consultations/{consultation.id}/contribute", data=_form())
    assert response.status_code == 403
    assert "Only invited organisations" in response.get_data(as_text=True)
    auth.logout()
    auth.login(make_user(organisation=invited))
    response = client.post(f"/consultations/{consultation.id}/contribute", data=_form())
    assert response.status_code == 302
    contribution = db.session.scalar(select(Contribution))
    assert contribution.governance_level == "regional"


def test_author_edits_while_open(client, auth, make_user, make_consultation, make_contribution):
    author = make_user()
    consultation = make_consultation()
    contribution = make_contribution(consultation, author=author, objectives=(1,))
    auth.login(author)
    assert client.get(f"/contributions/{contribution.id}/edit").status_code == 200
    response = client.post(
        f"/contributions/{contribution.id}/edit", data=_form(kind="challenge", title="Edited", objectives=["7"])
    )
    assert response.status_code == 302
    db.session.expire_all()
    contribution = db.session.get(Contribution, contribution.id)
    assert contribution.title == "Edited"
    assert contribution.objective_numbers == [7]


def test_edit_bad_input_changes_nothing(client, auth, make_user, make_consultation, make_contribution):
    author = make_user()
    contribution = make_contribution(make_consultation(), author=author, title="Original", objectives=(2,))
    auth.login(author)
    response = client.post(f"/contributions/{contribution.id}/edit", data=_form(title="New", objectives=[]))
    assert response.status_code == 422
    assert 'value="New"' in response.get_data(as_text=True)
    db.session.expire_all()
    contribution = db.session.get(Contribution, contribution.id)
    assert contribution.title == "Original"
    assert contribution.objective_numbers == [2]


def test_someone_else_cannot_edit_or_withdraw(client, auth, make_user, make_consultation, make_contribution):
    contribution = make_contribution(make_consultation(), title="Mine")
    auth.login(make_user())
    assert client.get(f"/contributions/{contribution.id}/edit").status_code == 403
    assert client.post(f"/contributions/{contribution.id}/edit", data=_form(title="Hijacked")).status_code == 403
    assert client.post(f"/contributions/{contribution.id}/withdraw").status_code == 403
    db.session.expire_all()
    contribution = db.session.get(Contribution, contribution.id)
    assert (contribution.title, contribution.status) == ("Mine", "active")


def test_withdraw_hides_from_lists(app, client, auth, make_user, make_consultation, make_contribution):
    author = make_user()
    consultation = make_consultation()
    contribution = make_contribution(consultation, author=author, title="To be withdrawn")
    auth.login(author)
    assert client.post(f"/contributions/{contribution.id}/withdraw").status_code == 302
    assert "To be withdrawn" not in client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert "withdrawn by its author" in client.get(f"/contributions/{contribution.id}").get_data(as_text=True)
    assert app.test_client().get(f"/contributions/{contribution.id}").status_code == 404
    # Withdrawn is final for editing.
    assert client.get(f"/contributions/{contribution.id}/edit").status_code == 403


def test_frozen_after_closing(client, auth, make_user, make_consultation, make_contribution):
    from consultations.consultations.services import change_state

    author = make_user()
    consultation = make_consultation()
    contribution = make_contribution(consultation, author=author, title="Frozen")
    change_state(consultation, "closed")
    db.session.commit()
    auth.login(author)
    assert client.get(f"/contributions/{contribution.id}/edit").status_code == 403
    assert client.post(f"/contributions/{contribution.id}/edit", data=_form(title="Changed")).status_code == 403
    assert client.post(f"/contributions/{contribution.id}/withdraw").status_code == 403
    with pytest.raises(services.ContributionError):
        services.update_contribution(contribution, author, title="Changed")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Contribution, contribution.id).title == "Frozen"


def test_contribution_in_draft_is_secret(app, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser, state="draft")
    # Organisers may try out their own draft? No: drafts take no contributions.
    with pytest.raises(services.ContributionError, match="not open"):
        services.submit_contribution(consultation, organiser, kind="challenge", title="t", objectives=[1])
