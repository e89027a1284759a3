"""The demo data (``flask demo``) built from the seed documents."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consultations.accounts.models import User
from consultations.accounts.services import authenticate
from consultations.consultations.models import Consultation
from consultations.contributions.models import Contribution
from consultations.demo import DEMO_ACCOUNTS, load_demo
from consultations.extensions import db


@pytest.fixture
def demo(app):
    load_demo()
    db.session.commit()
    return {c.kind: c for c in db.session.scalars(select(Consultation))}


def _items(consultation, kind=None):
    stmt = select(Contribution).where(Contribution.consultation_id == consultation.id)
    if kind:
        stmt = stmt.where(Contribution.kind == kind)
    return list(db.session.scalars(stmt))


def test_demo_accounts_cover_every_role():
    roles = [role for role, _, _ in DEMO_ACCOUNTS]
    assert roles.count("admin") >= 1
    assert roles.count("organiser") >= 2
    assert roles.count("participant") >= 3
    assert roles.count("reviewer") >= 1
    emails = [email for _, email, _ in DEMO_ACCOUNTS]
    assert len(set(emails)) == len(emails)
    for _, email, password in DEMO_ACCOUNTS:
        assert email.endswith("@demo.mesa.example")
        assert len(password) >= 10


def test_guadalajara_platform(demo):
    platform = demo["regional_platform"]
    assert "Guadalajara" in platform.title
    assert platform.state == "closed"
    assert "4 June 2021" in platform.description_md
    challenges = _items(platform, "challenge")
    proposals = _items(platform, "proposal")
    assert len(challenges) == 7
    assert len(proposals) == 5
    assert len(_items(platform)) == 12
    assert any("language" in c.title.lower() for c in challenges)
    assert any("rural cars" in p.title for p in proposals)
    for proposal in proposals:
        assert proposal.answers
        assert all(c.consultation_id == platform.id for c in proposal.answers)
    categories = {c.stakeholder_category for c in _items(platform)}
    assert {"international_organisation", "ngo", "public_administration", "migrant_association"} <= categories
    organiser_orgs = {u.organisation.name for u in platform.organisers}
    assert organiser_orgs == {"IOM Spain"}


def test_every_contribution_is_tagged_and_dated_historically(demo):
    contributions = list(db.session.scalars(select(Contribution)))
    assert contributions
    for contribution in contributions:
        assert contribution.objective_numbers
        assert contribution.status == "active"
    platform = demo["regional_platform"]
    assert {c.created_at.date() for c in _items(platform)} == {date(2021, 6, 4)}
    assert {c.name_organisation for c in contributions} == {True, False}


def test_spanish_review_days(demo):
    civil = demo["civil_society_day"]
    inter = demo["inter_administration_day"]
    assert (civil.opens_on, civil.state) == (date(2024, 2, 15), "published")
    assert (inter.opens_on, inter.state) == (date(2024, 2, 23), "published")
    assert len(_items(civil)) >= 10
    assert len(_items(inter)) >= 8
    assert {c.kind for c in _items(civil)} == {"challenge", "proposal", "good_practice"}
    assert {c.kind for c in _items(inter)} == {"challenge", "proposal", "good_practice"}

    # The review places the praise for Salvamento Marítimo at the civil-society day.
    sar = [
        c
        for c in _items(civil, "good_practice")
        if 8 in c.objective_numbers and "search and rescue" in (c.title + c.body_md).lower()
    ]
    assert sar
    assert "Salvamento Marítimo" in sar[0].body_md

    civil_categories = {c.stakeholder_category for c in _items(civil)}
    assert {"ngo", "migrant_association", "trade_union", "employers_organisation", "academia"} <= civil_categories

    assert inter.eligibility == "invited"
    assert inter.invited_organisations
    levels = {c.governance_level for c in _items(inter)}
    assert {"regional", "provincial", "municipal"} <= levels
    assert {c.stakeholder_category for c in _items(inter)} == {"public_administration"}
    titles = " ".join(c.title for c in _items(inter, "good_practice"))
    assert "Basque Social Pact" in titles
    assert len(inter.organisers) == 2


def test_valencia_council_is_open_and_draft_exists(demo):
    council = demo["local_council"]
    assert council.state == "open"
    assert council.opens_on <= date(2026, 11, 23) <= council.closes_on
    assert "81 member associations" in council.description_md
    voices = [c.stakeholder_category for c in _items(council)]
    assert voices.count("ngo") > voices.count("migrant_association") >= 1

    draft = demo["online_call"]
    assert draft.state == "draft"
    ministry = db.session.scalar(select(User).where(User.email == "ministry.organiser@demo.mesa.example"))
    assert draft.is_organiser(ministry)


def test_demo_logins_work(demo):
    for role, email, password in DEMO_ACCOUNTS:
        user = authenticate(email, password)
        assert user is not None, email
        assert user.role == role
    assert authenticate(DEMO_ACCOUNTS[0][1], "wrong-password-123") is None


def test_flask_demo_prints_every_login(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for _, email, password in DEMO_ACCOUNTS:
        assert email in result.output
        assert password in result.output
    assert db.session.scalar(select(func.count()).select_from(Consultation)) == 5

    again = runner.invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
    assert db.session.scalar(select(func.count()).select_from(Consultation)) == 5


def test_flask_demo_refuses_a_database_with_data(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    again = runner.invoke(args=["demo"])
    assert again.exit_code != 0
    assert "empty database only" in again.output
    quiet = runner.invoke(args=["demo", "--if-empty"])
    assert quiet.exit_code == 0
    assert "already loaded" in quiet.output


def test_guadalajara_roundtables_attendance_and_continuity(demo, client):
    from consultations.roundtables import services as rt
    from consultations.roundtables.models import Roundtable

    platform = demo["regional_platform"]
    first, second = db.session.scalars(
        select(Roundtable).where(Roundtable.consultation_id == platform.id).order_by(Roundtable.starts_at)
    ).all()
    assert second.local_start.date() == date(2021, 6, 4)
    assert (second.local_end - second.local_start).seconds == 2 * 3600
    assert rt.attendance([second.id]).total == 16
    carried = rt.carried_forward_to(second)
    assert carried and all(c.kind == "challenge" and c.roundtable_id == first.id for c in carried)
    html = client.get(f"/roundtables/{second.id}").get_data(as_text=True)
    assert "16 stakeholders joined." in html
    assert "Challenges carried forward" in html
    page = client.get(f"/consultations/{platform.id}").get_data(as_text=True)
    assert "First roundtable of the platform" in page and "Second roundtable" in page


def test_valencia_council_composition(demo, client):
    from consultations.roundtables import services as rt

    council = demo["local_council"]
    composition = rt.composition(council)
    assert composition["totals"] == {"member": 81, "observer": 2}
    assert composition["by_category"]["ngo"]["member"] > composition["by_category"]["migrant_association"]["member"]
    html = client.get(f"/consultations/{council.id}/members").get_data(as_text=True)
    assert "81 members, 2 observers." in html


def test_every_demo_organiser_has_a_listed_working_login(demo, app):
    """Each organiser of each demo consultation (Valencia's council included) logs in with a
    password that ``flask demo`` prints and README.md lists, and reaches what they organise."""
    listed = {email: (role, password) for role, email, password in DEMO_ACCOUNTS}
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    organisers = {}
    for consultation in demo.values():
        assert consultation.organisers, consultation.title
        for user in consultation.organisers:
            organisers.setdefault(user.email, []).append(consultation.id)
    assert len(organisers) >= 4
    for email, consultation_ids in organisers.items():
        assert email in listed, f"{email} organises a demo consultation but has no demo login"
        role, password = listed[email]
        assert role == "organiser"
        assert authenticate(email, password) is not None, email
        assert f"| {email} | {password} |" in readme, f"README.md does not list {email}"
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, email
        for consultation_id in consultation_ids:  # drafts included: organisers only
            assert client.get(f"/consultations/{consultation_id}").status_code == 200
    valencia = demo["local_council"]
    assert {u.email for u in valencia.organisers} <= set(listed)
