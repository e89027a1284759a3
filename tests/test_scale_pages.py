"""Issue 14 (national scale): the roundtable page, the contribution page, the contribute
form (its challenge picker), the moderation queue and the home page cost the same number
of statements, and the form the same bytes, whatever the number of contributions."""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select

from consultations.contributions import services
from consultations.contributions.models import (
    Contribution,
    ContributionObjective,
    Flag,
    proposal_answers,
)
from consultations.extensions import db

from .conftest import PASSWORD
from .test_browsing import _bulk_contributions, _queries


def _rows(consultation, n, *, author, kind="challenge", start=0, **fields):
    """``n`` contributions inserted directly (fast), titles "Row <i>"."""
    items = [
        Contribution(
            consultation_id=consultation.id, kind=kind, title=f"Row {start + i}", body_md="text", body_html="<p>text</p>",
            author_id=author.id, stakeholder_category=author.stakeholder_category,
            objectives=[ContributionObjective(objective=1 + i % 23)], **fields,
        )
        for i in range(n)
    ]
    db.session.add_all(items)
    db.session.commit()
    return items


def _login(client, user):
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    return client


def _roundtable(consultation):
    from consultations.roundtables import services as roundtables

    roundtable = roundtables.create_roundtable(
        consultation, title="Table", day=date.today() - timedelta(days=1), start=time(10), end=time(12), place="Room 1"
    )
    db.session.commit()
    return roundtable


def _form_data(**overrides):
    data = {"kind": "proposal", "title": "Rural car-sharing", "body": "Between *villages*.", "objectives": ["15"],
            "language": "en"}
    data.update(overrides)
    return data


# -- constant statements -------------------------------------------------------------

def test_pages_of_issue_14_cost_constant_statements(app, make_user, make_org, make_consultation, make_contribution):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    author = make_user(organisation=make_org(category="ngo"))
    roundtable = _roundtable(consultation)
    challenge = make_contribution(consultation, author=author, kind="challenge", title="The challenge")
    proposal = make_contribution(consultation, author=author, kind="proposal", title="The proposal", answers=[challenge.id])

    def grow(n, start):
        _bulk_contributions(consultation, n, [author])
        _rows(consultation, n, author=author, start=start, roundtable_id=roundtable.id, captured=True)
        proposals = _rows(consultation, n, author=author, kind="proposal", start=start)
        db.session.execute(proposal_answers.insert(), [{"proposal_id": p.id, "challenge_id": challenge.id} for p in proposals])
        pending = _rows(consultation, n, author=author, start=start, status="pending")
        db.session.add_all([Flag(contribution_id=p.id, reason="Check") for p in proposals[: n // 2]])
        db.session.commit()
        return pending

    grow(5, 0)
    _queries(app, "/healthz")  # the first request of a process also checks the schema version
    public = ["/", f"/roundtables/{roundtable.id}", f"/contributions/{challenge.id}", f"/contributions/{proposal.id}",
              f"/consultations/{consultation.id}/challenges?q=Row"]
    managed = [f"/consultations/{consultation.id}/moderation", f"/roundtables/{roundtable.id}"]
    mine = [f"/consultations/{consultation.id}/contribute", f"/consultations/{consultation.id}/contribute?answers={challenge.id}",
            f"/contributions/{proposal.id}/edit"]

    def measure():
        counts = {url: _queries(app, url) for url in public}
        counts |= {("organiser", url): _queries(app, url, login=organiser) for url in managed}
        counts |= {("author", url): _queries(app, url, login=author) for url in mine}
        return counts

    small = measure()
    grow(400, 1000)
    large = measure()
    for key in small:
        assert large[key] == small[key], (key, small[key], large[key])
    # A deep page of the (now long) moderation queue costs what its first page cost.
    deep = _queries(app, f"/consultations/{consultation.id}/moderation?page=12", login=organiser)
    assert deep == small[("organiser", f"/consultations/{consultation.id}/moderation")]
    # The pages grew, the statements did not: the lists are pages.
    html = app.test_client().get(f"/roundtables/{roundtable.id}").get_data(as_text=True)
    assert html.count('class="card contribution"') == 30 and "after=" in html


# -- the contribute form and its challenge picker --------------------------------------

def test_contribute_form_size_does_not_grow_with_challenges(app, make_user, make_consultation):
    consultation = make_consultation()
    author = make_user()
    client = _login(app.test_client(), author)
    url = f"/consultations/{consultation.id}/contribute"
    client.get(url)  # shows "You are logged in" once

    def size(response):
        assert response.status_code == 200
        # The CSRF token and the submission key are random, of a fixed length.
        return len(response.get_data())

    _rows(consultation, 10, author=author)
    small = size(client.get(url))
    small_search = size(client.post(url, data=_form_data(challenge_q="Row", find_challenges="")))
    _rows(consultation, 490, author=author, start=10)
    large = size(client.get(url))
    large_search = size(client.post(url, data=_form_data(challenge_q="Row", find_challenges="")))
    assert abs(large - small) < 50, (small, large)
    assert large < 60_000
    # A search shows one page of matches (20), not the 500: the 10-challenge search
    # showed 10 of them, so the larger page differs by 10 rows and a "More" button only.
    assert large_search - small_search < 4_000, (small_search, large_search)


def test_challenge_search_endpoint(app, client, make_user, make_consultation, make_contribution):
    consultation = make_consultation()
    author = make_user()
    wanted = make_contribution(consultation, author=author, kind="challenge", title="Housing 100% full")
    make_contribution(consultation, author=author, kind="proposal", title="Housing proposal")
    withdrawn = make_contribution(consultation, author=author, kind="challenge", title="Housing withdrawn")
    services.withdraw_contribution(withdrawn, author)
    db.session.commit()
    make_contribution(make_consultation(), author=author, kind="challenge", title="Housing elsewhere")
    url = f"/consultations/{consultation.id}/challenges"

    data = client.get(url, query_string={"q": "housing"}).get_json()
    assert data == {"results": [{"id": wanted.id, "title": "Housing 100% full"}], "next": None}
    assert client.get(url, query_string={"q": "%"}).get_json()["results"] == [{"id": wanted.id, "title": "Housing 100% full"}]
    assert client.get(url, query_string={"q": "_"}).get_json()["results"] == []  # LIKE wildcards are literal
    assert client.get(url, query_string={"q": str(wanted.id)}).get_json()["results"][0]["id"] == wanted.id
    assert client.get(url, query_string={"q": "housing", "exclude": wanted.id}).get_json()["results"] == []

    # Pages, newest first: "next" is the "before" of the following page.
    more = _rows(consultation, 45, author=author, start=0)
    first = client.get(url, query_string={"q": "Row"}).get_json()
    assert [r["id"] for r in first["results"]] == [c.id for c in reversed(more)][:20]
    second = client.get(url, query_string={"q": "Row", "before": first["next"]}).get_json()
    third = client.get(url, query_string={"q": "Row", "before": second["next"]}).get_json()
    assert len(second["results"]) == 20 and len(third["results"]) == 5 and third["next"] is None
    seen = [r["id"] for r in first["results"] + second["results"] + third["results"]]
    assert sorted(seen) == sorted(c.id for c in more)


@pytest.mark.parametrize(
    "query",
    [{"q": "x" * 201}, {"before": "abc"}, {"before": str(2**31)}, {"before": "-1"}, {"exclude": "1.5"},
     {"exclude": str(2**63)}, {"q": "a\x00b"}],
)
def test_challenge_search_bad_input_is_a_clear_400(client, make_consultation, query):
    consultation = make_consultation()
    response = client.get(f"/consultations/{consultation.id}/challenges", query_string=query)
    assert response.status_code == 400
    if response.is_json:
        assert response.get_json()["error"]


def test_challenge_search_of_a_draft_is_secret(app, make_user, make_consultation, make_contribution):
    organiser = make_user(role="organiser")
    draft = make_consultation(organiser=organiser, state="draft")
    db.session.add(Contribution(consultation=draft, kind="challenge", title="Secret", stakeholder_category="ngo"))
    db.session.commit()
    url = f"/consultations/{draft.id}/challenges?q=Secret"
    assert app.test_client().get(url).status_code == 404
    assert _login(app.test_client(), make_user()).get(url).status_code == 404
    assert _login(app.test_client(), organiser).get(url).get_json()["results"][0]["title"] == "Secret"
    assert app.test_client().get("/consultations/999999/challenges").status_code == 404


def test_picker_without_javascript_keeps_everything_typed(app, make_user, make_consultation):
    consultation = make_consultation()
    author = make_user()
    client = _login(app.test_client(), author)
    challenges = _rows(consultation, 25, author=author)
    url = f"/consultations/{consultation.id}/contribute"
    typed = _form_data(title="Cars <shared>", body="Between **villages**.", challenge_q="Row 2", submission_key="k" * 20)

    response = client.post(url, data={**typed, "find_challenges": ""})
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(Contribution.id)).where(Contribution.kind == "proposal")) == 0
    html = response.get_data(as_text=True)
    assert 'value="Cars &lt;shared&gt;"' in html and "Between **villages**." in html and 'value="' + "k" * 20 + '"' in html
    assert re.search(r'<input checked id="objectives-\d+" name="objectives" required type="checkbox" value="15">', html)
    shown = {int(v) for v in re.findall(r'name="answers" type="checkbox" value="(\d+)"', html)}
    assert shown == {c.id for c in challenges if c.title.startswith("Row 2")}  # "Row 2", "Row 20".."Row 24"
    assert "6 matching challenges shown" in html

    # An empty search shows the newest, a page at a time, with a button for more.
    html = client.post(url, data={**typed, "challenge_q": "", "find_challenges": ""}).get_data(as_text=True)
    assert len(re.findall(r'name="answers" type="checkbox"', html)) == 20
    more = re.search(r'name="find_challenges" value="(\d+)"', html).group(1)
    # Ticked challenges stay (ticked) whatever is searched next.
    html = client.post(url, data={**typed, "challenge_q": "", "find_challenges": more,
                                  "answers": [str(challenges[-1].id)]}).get_data(as_text=True)
    boxes = re.findall(r'<input( checked)? id="answers-\d+" name="answers" type="checkbox" value="(\d+)">', html)
    assert boxes[0] == (" checked", str(challenges[-1].id))
    assert {int(v) for _c, v in boxes[1:]} == {c.id for c in challenges[:5]}

    # Then submitted: saved with the challenge ticked.
    response = client.post(url, data={**typed, "answers": [str(challenges[3].id)]})
    assert response.status_code == 302
    proposal = db.session.scalar(select(Contribution).where(Contribution.kind == "proposal"))
    assert [c.id for c in proposal.answers] == [challenges[3].id]


@pytest.mark.parametrize("answers", [["abc"], [str(2**31)], [str(2**63)], ["-5"]])
def test_tampered_answers_are_refused_with_the_form_kept(app, make_user, make_consultation, answers):
    consultation = make_consultation()
    client = _login(app.test_client(), make_user())
    response = client.post(f"/consultations/{consultation.id}/contribute", data=_form_data(answers=answers))
    assert response.status_code == 422
    assert 'value="Rural car-sharing"' in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Contribution.id))) == 0


def test_a_proposal_answers_at_most_fifty_challenges(app, make_user, make_consultation):
    consultation = make_consultation()
    author = make_user()
    challenges = _rows(consultation, services.MAX_ANSWERS + 1, author=author)
    client = _login(app.test_client(), author)
    response = client.post(f"/consultations/{consultation.id}/contribute",
                           data=_form_data(answers=[str(c.id) for c in challenges]))
    assert response.status_code == 422
    assert "at most 50 challenges" in response.get_data(as_text=True)
    with pytest.raises(services.ContributionError, match="at most"):
        services.submit_contribution(consultation, author, kind="proposal", title="t", objectives=[1],
                                     answers=[c.id for c in challenges])
    proposal = services.submit_contribution(consultation, author, kind="proposal", title="t", objectives=[1],
                                            answers=[c.id for c in challenges[:50]])
    assert len(proposal.answers) == 50


def test_edit_form_shows_the_answered_challenges_not_the_others(app, make_user, make_consultation, make_contribution):
    consultation = make_consultation()
    author = make_user()
    challenges = _rows(consultation, 30, author=author)
    proposal = make_contribution(consultation, author=author, kind="proposal", answers=[challenges[4].id])
    html = _login(app.test_client(), author).get(f"/contributions/{proposal.id}/edit").get_data(as_text=True)
    assert re.findall(r'<input( checked)? id="answers-\d+" name="answers" type="checkbox" value="(\d+)">', html) == [
        (" checked", str(challenges[4].id))
    ]
    assert f"/consultations/{consultation.id}/challenges?exclude={proposal.id}" in html


# -- lists a page at a time -------------------------------------------------------------

def test_roundtable_page_lists_contributions_a_page_at_a_time(app, client, make_user, make_consultation):
    consultation = make_consultation()
    author = make_user()
    roundtable = _roundtable(consultation)
    raised = _rows(consultation, 35, author=author, roundtable_id=roundtable.id, captured=True)
    html = client.get(f"/roundtables/{roundtable.id}").get_data(as_text=True)
    assert "Row 0<" in html and "Row 29<" in html and "Row 30<" not in html
    after = re.search(r'href="[^"]*after=(\d+)#raised-heading" rel="next"', html).group(1)
    assert int(after) == raised[29].id
    html = client.get(f"/roundtables/{roundtable.id}?after={after}").get_data(as_text=True)
    assert "Row 30<" in html and "Row 34<" in html and "Row 29<" not in html
    assert 'rel="next"' not in html and "← First" in html
    for odd in ("abc", "-1", str(2**40), " "):
        assert client.get(f"/roundtables/{roundtable.id}", query_string={"after": odd}).status_code == 200


def test_contribution_page_lists_answering_proposals_a_page_at_a_time(app, client, make_user, make_consultation,
                                                                     make_contribution):
    consultation = make_consultation()
    author = make_user()
    challenge = make_contribution(consultation, author=author, kind="challenge", title="Transport")
    proposals = _rows(consultation, 32, author=author, kind="proposal")
    db.session.execute(proposal_answers.insert(), [{"proposal_id": p.id, "challenge_id": challenge.id} for p in proposals])
    services.withdraw_contribution(proposals[0], author)
    db.session.commit()
    html = client.get(f"/contributions/{challenge.id}").get_data(as_text=True)
    assert "Row 0<" not in html and "Row 1<" in html and "Row 30<" in html and "Row 31<" not in html
    after = re.search(r'after=(\d+)#answering-heading" rel="next"', html).group(1)
    html = client.get(f"/contributions/{challenge.id}?after={after}").get_data(as_text=True)
    assert "Row 31<" in html and "Row 30<" not in html
