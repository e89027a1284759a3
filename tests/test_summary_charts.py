"""Summary charts are drawn once and kept (issue 14): a page shows them by URL, the same
summary viewed again draws nothing, new counts, other settings or another language draw
again, and the Word file embeds the same cached picture."""
from __future__ import annotations

import re

import pytest

from consultations.extensions import db
from consultations.summaries import charts, services

from .test_summaries import login

CHART_URL = re.compile(r'<img src="(/charts/([0-9a-f]{64})\.png)"')


@pytest.fixture
def drawn(monkeypatch):
    """The charts drawn during the test (each a spec's "chart" name)."""
    calls = []
    real = charts._render

    def counting(spec):
        calls.append(spec["chart"])
        return real(spec)

    monkeypatch.setattr(charts, "_render", counting)
    return calls


@pytest.fixture
def summary(make_user, make_org, make_consultation, make_contribution):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    ngo = make_user(organisation=make_org(category="ngo"))
    for i in range(6):
        make_contribution(consultation, author=ngo, objectives=(3, 16), title=f"Item {i}")
    return consultation, organiser


def _page(client, consultation, query=""):
    response = client.get(f"/consultations/{consultation.id}/summary{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_second_view_draws_nothing_and_page_is_small(app, client, summary, drawn):
    consultation, organiser = summary
    login(client, organiser)
    first = _page(client, consultation)
    assert sorted(drawn) == ["objectives", "representation"]
    second = _page(client, consultation)
    assert sorted(drawn) == ["objectives", "representation"]  # nothing drawn again
    assert CHART_URL.findall(first) == CHART_URL.findall(second)
    # No picture inlined: the page stays small whatever the charts hold.
    assert "data:image" not in second
    assert len(second.encode()) < 60_000, len(second.encode())
    # The text alternatives are on the page, as before.
    assert 'alt="Bar chart of contributions by GCM objective' in second
    assert 'alt="Horizontal bar chart of the shares by stakeholder category.' in second
    # The cached pictures are served, with an ETag that gives 304 when the browser has them.
    for url, key in CHART_URL.findall(second):
        picture = client.get(url)
        assert picture.status_code == 200 and picture.mimetype == "image/png"
        assert picture.data.startswith(b"\x89PNG")
        assert "private" in picture.headers["Cache-Control"] and "public" not in picture.headers["Cache-Control"]
        assert client.get(url, headers={"If-None-Match": f'"{key}"'}).status_code == 304
    assert sorted(drawn) == ["objectives", "representation"]


def test_new_counts_settings_or_language_draw_again(app, client, summary, drawn, make_user, make_contribution):
    consultation, organiser = summary
    login(client, organiser)
    keys = set(k for _, k in CHART_URL.findall(_page(client, consultation)))
    assert len(drawn) == 2

    # Another language: both charts drawn again (their text is in that language).
    spanish = set(k for _, k in CHART_URL.findall(_page(client, consultation, "?lang=es")))
    assert len(drawn) == 4 and not spanish & keys
    _page(client, consultation, "?lang=es")
    assert len(drawn) == 4

    # A new revision of the summary's settings: the dashed line moves, that chart is redrawn.
    summary_row = services.summary_for(consultation)
    services.update_settings(consultation, seen_revision=summary_row.revision, privacy_threshold=3,
                             migrant_min_percent=25, dominance_max_percent=70)
    db.session.commit()
    revised = set(k for _, k in CHART_URL.findall(_page(client, consultation)))
    assert drawn[4:] == ["representation"] and len(revised - keys) == 1

    # A new contribution changes the counts: both charts drawn again.
    make_contribution(consultation, author=make_user(), objectives=(5,))
    counted = set(k for _, k in CHART_URL.findall(_page(client, consultation)))
    assert sorted(drawn[5:]) == ["objectives", "representation"] and not counted & revised


def test_word_file_embeds_the_cached_picture(app, client, summary, drawn):
    consultation, organiser = summary
    login(client, organiser)
    (url, key), _ = CHART_URL.findall(_page(client, consultation))
    assert len(drawn) == 2
    compiled = services.compile_for_viewer(consultation, organiser)
    pictures = charts.charts_for(compiled.meta)
    assert key in {c.key for c in pictures}
    from consultations.summaries.exports import to_docx

    assert to_docx(compiled)[:2] == b"PK"
    assert len(drawn) == 2  # read from the cache, not drawn


def test_a_lost_cache_is_drawn_again_and_unknown_keys_are_404(app, client, summary, drawn):
    consultation, organiser = summary
    login(client, organiser)
    urls = CHART_URL.findall(_page(client, consultation))
    for path in charts.cache_dir().glob("*.png"):
        path.unlink()
    assert client.get(urls[0][0]).status_code == 404
    assert CHART_URL.findall(_page(client, consultation)) == urls
    assert len(drawn) == 4
    assert client.get(urls[0][0]).status_code == 200
    for bad in ("/charts/" + "0" * 64 + ".png", "/charts/../secret_key.png", "/charts/ABC.png", "/charts/" + "g" * 64 + ".png"):
        assert client.get(bad).status_code == 404, bad


def test_keys_depend_on_the_secret(app, summary):
    consultation, organiser = summary
    with app.test_request_context():
        meta = services.compile_for_viewer(consultation, organiser).meta
        first = [c.key for c in charts.charts_for(meta)]
        app.config["SECRET_KEY"] = "another secret"
        assert not set(first) & {c.key for c in charts.charts_for(meta)}
