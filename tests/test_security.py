import re

import pytest
from sqlalchemy import select

from consultations.contributions.models import Contribution
from consultations.extensions import db
from consultations.markdown import MAX_MARKDOWN_LENGTH, render_markdown

HOSTILE = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '[click](javascript:alert(1))',
    '[click](JaVaScRiPt:alert(1))',
    '<a href="javascript:alert(1)">x</a>',
    '<svg onload=alert(1)>',
    '![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
]


@pytest.mark.parametrize("source", HOSTILE)
def test_markdown_renders_hostile_input_harmless(source):
    html = render_markdown(source).lower()
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onerror" not in html and "onload" not in html and "onclick" not in html
    assert "<iframe" not in html and "<svg" not in html and "<img" not in html
    assert "style=" not in html
    assert "data:text/html" not in html


def test_markdown_keeps_ordinary_formatting():
    html = render_markdown("**Bold**, *it*, [link](https://iom.int)\n\n- one\n- two")
    assert "<strong>Bold</strong>" in html
    assert '<a href="https://iom.int" rel="noopener noreferrer nofollow ugc">link</a>' in html
    assert "<li>one</li>" in html


def test_markdown_length_cap():
    with pytest.raises(ValueError):
        render_markdown("a" * (MAX_MARKDOWN_LENGTH + 1))


@pytest.mark.parametrize(
    "source",
    ["[" * 5000, "[a](" * 4000, "<a " * 6000, "1. " * 6000, "> " * 9000, "\\[" * 9000],
)
def test_pathological_markdown_is_defused_and_keeps_the_text(source):
    source = source[:MAX_MARKDOWN_LENGTH]
    html = render_markdown(source)
    # Rendered (no RecursionError escapes), nothing executable, the characters still there.
    assert "<script" not in html
    visible = re.sub(r"<[^>]+>", "", html)
    assert len(visible) > len(source) // 4


def test_hostile_contribution_stored_as_typed_and_shown_escaped(client, auth, make_user, make_consultation):
    consultation = make_consultation()
    auth.login(make_user())
    title = '<script>alert("t")</script>'
    body = '<img src=x onerror=alert(1)> [x](javascript:alert(2))'
    response = client.post(
        f"/consultations/{consultation.id}/contribute",
        data={"kind": "challenge", "title": title, "body": body, "objectives": ["1"]},
    )
    assert response.status_code == 302
    contribution = db.session.scalar(select(Contribution))
    assert contribution.title == title
    assert contribution.body_md == body
    for url in (f"/contributions/{contribution.id}", f"/consultations/{consultation.id}", "/objectives/1"):
        html = client.get(url).get_data(as_text=True)
        assert '<script>alert("t")</script>' not in html
        assert "&lt;script&gt;" in html
        assert "onerror" not in html.replace("onerror=alert(1)&gt;", "")
        assert "javascript:" not in html


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_inline_scripts_in_pages(client, make_consultation):
    consultation = make_consultation()
    for url in ("/", "/login", "/register", f"/consultations/{consultation.id}"):
        html = client.get(url).get_data(as_text=True)
        assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, url
        assert " onclick=" not in html and " onload=" not in html


def test_session_cookie_flags(app, make_user):
    client = app.test_client()
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookies_when_configured(monkeypatch, tmp_path):
    from consultations import create_app

    monkeypatch.setenv("MESA_SECURE_COOKIES", "1")
    monkeypatch.setenv("MESA_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_secret_key_generated_into_instance_and_reused(monkeypatch, tmp_path):
    from consultations.config import load_secret_key

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("MESA_SECRET_KEY", raising=False)
    first = load_secret_key(str(tmp_path))
    assert len(first) >= 40
    assert (tmp_path / "secret_key").read_text() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert load_secret_key(str(tmp_path)) == first
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert load_secret_key(str(tmp_path)) == "from-env"


def test_database_url_normalised():
    from consultations.config import normalise_database_url

    assert normalise_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_error_pages_are_clear(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    response = client.post("/")
    assert response.status_code == 405
    assert "Method not allowed" in response.get_data(as_text=True)


def test_oversized_body_gets_413_page(app, client, auth, make_user, make_consultation):
    consultation = make_consultation()
    auth.login(make_user())
    response = client.post(
        f"/consultations/{consultation.id}/contribute",
        data={"kind": "challenge", "title": "big", "body": "x" * (app.config["MAX_CONTENT_LENGTH"] + 10), "objectives": ["1"]},
    )
    assert response.status_code == 413
    assert "larger than this platform accepts" in response.get_data(as_text=True)
    assert db.session.scalar(select(Contribution)) is None


def test_missing_csrf_token_shows_typed_text(csrf_app, make_user, make_consultation):
    consultation = make_consultation()
    user = make_user()
    client = csrf_app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery", "csrf_token": token})
    assert response.status_code == 302
    response = client.post(
        f"/consultations/{consultation.id}/contribute",
        data={"kind": "proposal", "title": "My long thought", "body": "Do not lose this text", "objectives": ["1"], "csrf_token": "expired"},
    )
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Your form expired" in html
    assert "Do not lose this text" in html and "My long thought" in html
    assert db.session.scalar(select(Contribution)) is None


def test_login_without_csrf_is_refused(csrf_app, make_user):
    user = make_user()
    client = csrf_app.test_client()
    response = client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "correct horse battery" not in html  # passwords are never echoed back


def test_personal_data_not_in_public_pages(app, make_user, make_org, make_consultation, make_contribution):
    author = make_user(name="Fatima Zahra", email="fatima@example.org", organisation=make_org(name="Hidden Org"))
    consultation = make_consultation()
    contribution = make_contribution(consultation, author=author, title="Visible title")
    client = app.test_client()
    for url in (f"/consultations/{consultation.id}", f"/contributions/{contribution.id}", "/objectives/1", "/"):
        html = client.get(url).get_data(as_text=True)
        assert "Fatima" not in html and "fatima@example.org" not in html and "Hidden Org" not in html
