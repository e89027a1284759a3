"""Objective pages at national scale (issue 14): counts kept by the database, keyset pages."""
from __future__ import annotations

import re

from sqlalchemy import delete, func, select

from consultations.consultations.models import VISIBLE_STATES, Consultation
from consultations.contributions.models import Contribution, ContributionObjective
from consultations.contributions.services import update_contribution, withdraw_contribution
from consultations.extensions import db
from consultations.objectives import services
from consultations.objectives.models import ObjectiveCount

from .test_browsing import _bulk_contributions


def _counted_by_hand() -> dict[tuple[int, int, str], int]:
    rows = db.session.execute(
        select(Contribution.consultation_id, ContributionObjective.objective, Contribution.kind, func.count())
        .join(ContributionObjective, ContributionObjective.contribution_id == Contribution.id)
        .where(Contribution.status == "active")
        .group_by(Contribution.consultation_id, ContributionObjective.objective, Contribution.kind)
    )
    return {(c, o, k): n for c, o, k, n in rows}


def _visible_by_hand() -> dict[int, int]:
    rows = db.session.execute(
        select(ContributionObjective.objective, func.count())
        .join(Contribution, Contribution.id == ContributionObjective.contribution_id)
        .join(Consultation, Consultation.id == Contribution.consultation_id)
        .where(Contribution.status == "active", Consultation.state.in_(VISIBLE_STATES))
        .group_by(ContributionObjective.objective)
    )
    return {o: n for o, n in rows}


def _kept() -> dict[tuple[int, int, str], int]:
    rows = db.session.execute(select(ObjectiveCount.consultation_id, ObjectiveCount.objective, ObjectiveCount.kind, ObjectiveCount.total))
    return {(c, o, k): n for c, o, k, n in rows if n}


def test_counts_follow_every_change(app, make_user, make_consultation, make_contribution):
    author = make_user()
    first, second = make_consultation(), make_consultation()
    a = make_contribution(first, author=author, kind="challenge", objectives=(3, 16))
    b = make_contribution(first, author=author, kind="proposal", objectives=(16,))
    make_contribution(second, author=author, kind="proposal", objectives=(16, 23))
    _bulk_contributions(second, 30, [author])
    assert _kept() == _counted_by_hand()
    assert services.contribution_counts() == _visible_by_hand()
    # Changing the kind and the objectives, withdrawing, hiding, restoring.
    update_contribution(a, author, kind="proposal", objectives=[5, 16])
    db.session.commit()
    assert _kept() == _counted_by_hand()
    withdraw_contribution(b, author)
    db.session.commit()
    assert _kept() == _counted_by_hand()
    hidden = db.session.scalars(select(Contribution).where(Contribution.consultation_id == second.id)).first()
    hidden.status = "hidden"
    db.session.commit()
    assert _kept() == _counted_by_hand()
    hidden.status = "active"
    db.session.commit()
    assert _kept() == _counted_by_hand()
    # Deleted rows, through the ORM and by SQL (the cascade from the contribution).
    db.session.delete(a)
    db.session.commit()
    assert _kept() == _counted_by_hand()
    db.session.execute(delete(Contribution).where(Contribution.id == hidden.id))
    db.session.commit()
    assert _kept() == _counted_by_hand()
    # A consultation that is not public is not counted; a deleted one leaves no row.
    second.state = "draft"
    db.session.commit()
    assert services.contribution_counts() == _visible_by_hand()
    assert services.objective_total(16) == _visible_by_hand().get(16, 0)
    assert services.objective_total(23) == 0  # only in the consultation now in draft
    db.session.delete(second)
    db.session.commit()
    assert not db.session.scalar(select(func.count()).select_from(ObjectiveCount).where(ObjectiveCount.consultation_id == second.id))


def test_index_and_page_show_the_kept_counts(client, make_user, make_consultation, make_contribution):
    consultation = make_consultation()
    for kind in ("challenge", "challenge", "proposal"):
        make_contribution(consultation, kind=kind, objectives=(7,))
    later = make_consultation()
    make_contribution(later, objectives=(7,))
    later.state = "draft"  # as if it went back: never counted
    db.session.commit()
    assert "3 contributions" in client.get("/objectives/").get_data(as_text=True)
    assert "3 contributions" in client.get("/objectives/7").get_data(as_text=True)
    assert "2 contributions" in client.get("/objectives/7?kind=challenge").get_data(as_text=True)


def test_counts_with_other_filters_stop_at_a_limit(client, monkeypatch, make_user, make_consultation):
    consultation = make_consultation()
    _bulk_contributions(consultation, 46, [make_user()])  # all on objective 16, of every kind
    monkeypatch.setattr(services, "COUNT_LIMIT", 10)
    html = client.get("/objectives/16?language=en").get_data(as_text=True)
    assert "More than 10 contributions" in html
    monkeypatch.setattr(services, "COUNT_LIMIT", 1000)
    assert "46 contributions" in client.get("/objectives/16?language=en").get_data(as_text=True)


def _walk(client, url):
    """Follow the Next links from ``url``: the titles of every page, in order."""
    pages = []
    while url:
        html = client.get(url).get_data(as_text=True)
        pages.append(re.findall(r'lang="en">(Bulk \d+)</a>', html))
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    return pages


def test_keyset_pages_newest_first_without_gaps_or_repeats(client, make_user, make_consultation):
    consultation = make_consultation()
    _bulk_contributions(consultation, 50, [make_user()])  # "Bulk 0" .. "Bulk 49": all on objective 1..23 and 16
    # Every one has objective 16 (as its first objective when i % 23 == 15, else as its second).
    in_16 = [f"Bulk {i}" for i in range(49, -1, -1)]
    pages = _walk(client, "/objectives/16")
    titles = [t for page in pages for t in page]
    assert titles == in_16
    assert [len(p) for p in pages] == [20, 20, len(in_16) - 40]
    assert "Page 1 of" not in client.get("/objectives/16").get_data(as_text=True)

    # Rows added while someone reads: the next page neither repeats nor skips a row.
    html = client.get("/objectives/16").get_data(as_text=True)
    next_url = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    _bulk_contributions(consultation, 5, [make_user()])  # newer than every row already listed
    second = re.findall(r'lang="en">(Bulk \d+)</a>', client.get(next_url).get_data(as_text=True))
    assert second == in_16[20:40]

    # Previous goes back to exactly the page before; Newest to the first page.
    html = client.get(next_url).get_data(as_text=True)
    prev_url = re.search(r'<a href="([^"]+)" rel="prev">', html).group(1).replace("&amp;", "&")
    assert re.findall(r'lang="en">(Bulk \d+)</a>', client.get(prev_url).get_data(as_text=True)) == in_16[:20]
    third = _walk(client, next_url)[1:]
    assert [t for p in third for t in p] == in_16[40:]


def test_keyset_filters_stay_in_links_and_odd_cursors_show_the_first_page(client, make_user, make_consultation):
    consultation = make_consultation()
    _bulk_contributions(consultation, 90, [make_user()])
    html = client.get("/objectives/16?kind=challenge").get_data(as_text=True)
    assert re.search(r'href="/objectives/16\?kind=challenge&amp;after=\d+" rel="next"', html)
    first = re.findall(r'lang="en">(Bulk \d+)</a>', client.get("/objectives/16").get_data(as_text=True))
    for odd in ("abc", "-1", "0", "99999999999", "1e3", ""):
        response = client.get(f"/objectives/16?after={odd}&before={odd}")
        assert response.status_code == 200, odd
        assert re.findall(r'lang="en">(Bulk \d+)</a>', response.get_data(as_text=True)) == first, odd
    # Old page-number links land on the first page.
    assert re.findall(r'lang="en">(Bulk \d+)</a>', client.get("/objectives/16?page=3").get_data(as_text=True)) == first
