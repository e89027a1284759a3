import pytest
from sqlalchemy import event, func, select

from consultations.extensions import db


@pytest.fixture
def seeded(make_user, make_org, make_consultation, make_contribution):
    migrants = make_user(organisation=make_org(name="Migrant Voices", category="migrant_association"))
    union = make_user(organisation=make_org(name="CCOO", category="trade_union"))
    consultation = make_consultation(title="Guadalajara platform")
    make_contribution(consultation, author=migrants, kind="challenge", title="Language barriers", objectives=(3, 16), body="Communication barriers due to language limitations")
    make_contribution(consultation, author=union, kind="proposal", title="Socio-labour orientation", objectives=(6, 18))
    make_contribution(consultation, author=migrants, kind="good_practice", title="Community gardens", objectives=(16,))
    other = make_consultation(title="Another consultation")
    make_contribution(other, author=union, kind="challenge", title="Elsewhere challenge", objectives=(16,))
    draft = make_consultation(title="Draft", state="draft")
    from consultations.contributions.models import Contribution
    from consultations.timeutil import utcnow

    # A contribution in a draft (as if the consultation went back): never listed publicly.
    db.session.add(Contribution(consultation=draft, kind="challenge", title="Hidden in draft", stakeholder_category="ngo", created_at=utcnow()))
    db.session.commit()
    return consultation


def _titles(html):
    return {t for t in ("Language barriers", "Socio-labour orientation", "Community gardens", "Elsewhere challenge", "Hidden in draft") if t in html}


def test_filters_combine_and_stay_in_url(client, seeded):
    url = f"/consultations/{seeded.id}"
    assert _titles(client.get(url).get_data(as_text=True)) == {"Language barriers", "Socio-labour orientation", "Community gardens"}
    assert _titles(client.get(url + "?kind=challenge").get_data(as_text=True)) == {"Language barriers"}
    assert _titles(client.get(url + "?objective=16").get_data(as_text=True)) == {"Language barriers", "Community gardens"}
    assert _titles(client.get(url + "?objective=16&kind=good_practice").get_data(as_text=True)) == {"Community gardens"}
    assert _titles(client.get(url + "?category=trade_union").get_data(as_text=True)) == {"Socio-labour orientation"}
    assert _titles(client.get(url + "?q=LANGUAGE+limitations").get_data(as_text=True)) == {"Language barriers"}
    html = client.get(url + "?q=%25").get_data(as_text=True)
    assert _titles(html) == set()  # LIKE wildcards are searched literally
    # Filters are kept in pagination links and the form.
    html = client.get(url + "?kind=challenge&objective=16").get_data(as_text=True)
    assert '<option selected value="challenge">' in html
    assert '<option selected value="16">' in html


def test_tampered_filters_do_not_break(client, seeded):
    url = f"/consultations/{seeded.id}"
    for query in ("?objective=99", "?objective=abc", "?kind=<script>", "?category='%20OR%201=1", "?page=-3", "?page=999"):
        response = client.get(url + query)
        assert response.status_code == 200, query
        assert "<script>" not in response.get_data(as_text=True)


def test_pagination(client, make_consultation, make_contribution, make_user):
    consultation = make_consultation()
    author = make_user()
    for i in range(45):
        make_contribution(consultation, author=author, title=f"Item {i:02d}", kind="challenge")
    html = client.get(f"/consultations/{consultation.id}?kind=challenge").get_data(as_text=True)
    assert "45 contributions" in html
    assert "Page 1 of 3" in html
    assert "kind=challenge&amp;page=2" in html
    page3 = client.get(f"/consultations/{consultation.id}?kind=challenge&page=3").get_data(as_text=True)
    assert "Item 00" in page3 and "Item 44" not in page3


def test_objective_page_across_consultations(client, seeded):
    html = client.get("/objectives/16").get_data(as_text=True)
    assert _titles(html) == {"Language barriers", "Community gardens", "Elsewhere challenge"}
    assert "Guadalajara platform" in html and "Another consultation" in html
    assert _titles(client.get("/objectives/16?kind=challenge").get_data(as_text=True)) == {"Language barriers", "Elsewhere challenge"}
    assert client.get("/objectives/24").status_code == 404
    assert client.get("/objectives/0").status_code == 404


def test_objectives_index_counts(client, seeded):
    html = client.get("/objectives/").get_data(as_text=True)
    assert "Empower migrants and societies to realize full inclusion and social cohesion" in html
    assert "3 contributions" in html  # objective 16, the draft's item not counted


def test_permalink(client, seeded):
    from sqlalchemy import select

    from consultations.contributions.models import Contribution

    item = db.session.scalar(select(Contribution).where(Contribution.title == "Language barriers"))
    html = client.get(f"/contributions/{item.id}").get_data(as_text=True)
    assert "Language barriers" in html
    assert f"/contributions/{item.id}" in html
    assert "3. Provide accurate and timely information at all stages of migration" in html
    hidden = db.session.scalar(select(Contribution).where(Contribution.title == "Hidden in draft"))
    assert client.get(f"/contributions/{hidden.id}").status_code == 404


class QueryCounter:
    def __init__(self, engine):
        self.engine = engine
        self.count = 0
        self.statements = []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._callback)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._callback)

    def _callback(self, conn, cursor, statement, *args):
        self.count += 1
        self.statements.append(statement)


def _bulk_contributions(consultation, n, authors):
    from consultations.contributions.models import Contribution, ContributionObjective, ContributionPrinciple

    rows = []
    for i in range(n):
        author = authors[i % len(authors)]
        rows.append(
            Contribution(
                consultation_id=consultation.id,
                kind=("challenge", "proposal", "good_practice")[i % 3],
                title=f"Bulk {i}",
                body_md="text",
                body_html="<p>text</p>",
                author_id=author.id,
                organisation_id=author.organisation_id,
                organisation_name=author.organisation.name if author.organisation else None,
                stakeholder_category=author.stakeholder_category,
                name_organisation=bool(i % 2),
                objectives=[ContributionObjective(objective=1 + i % 23), ContributionObjective(objective=16 if i % 23 != 15 else 17)],
                principles=[ContributionPrinciple(principle="human-rights")],
            )
        )
    db.session.add_all(rows)
    db.session.commit()


def _queries(app, url, login=None, statements=False):
    client = app.test_client()
    if login:
        client.post("/login", data={"email": login.email, "password": "correct horse battery"})
    with app.app_context():
        db.session.remove()
        with QueryCounter(db.engine) as counter:
            assert client.get(url).status_code == 200
    return counter.statements if statements else counter.count


def test_query_counts_constant_as_data_grows(app, make_user, make_org, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    authors = [make_user(organisation=make_org(category=c)) for c in ("ngo", "migrant_association")] + [make_user()]
    _bulk_contributions(consultation, 20, authors)
    _queries(app, "/healthz")  # the first request of a process also checks the schema version
    other = make_consultation()  # grows too: the filtered list of the first must not see it
    _bulk_contributions(other, 5, authors)
    from consultations.contributions.models import Contribution

    newest = db.session.scalar(select(func.max(Contribution.id)))
    urls = [f"/consultations/{consultation.id}", f"/consultations/{consultation.id}?objective=16&kind=challenge", "/objectives/16", "/objectives/", "/",
            # Issue 14: the filtered list in one consultation, the objective pages' filters and deep (keyset) pages.
            f"/consultations/{consultation.id}?kind=proposal&objective=8", "/objectives/16?kind=proposal",
            "/objectives/16?category=ngo&language=en", f"/objectives/16?after={newest - 3}", f"/objectives/16?before={newest - 10}"]
    small = {url: _queries(app, url) for url in urls}
    small_organiser = _queries(app, f"/consultations/{consultation.id}", login=organiser)
    _bulk_contributions(consultation, 1980, authors)
    _bulk_contributions(other, 1000, authors)
    large = {url: _queries(app, url) for url in urls}
    for url in urls:
        assert large[url] == small[url], (url, _queries(app, url, statements=True))
    assert _queries(app, f"/consultations/{consultation.id}", login=organiser) == small_organiser
    assert max(small.values()) <= 8, small
