import re
from html import escape
from html.parser import HTMLParser

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


class _Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes = set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes.extend(attrs)


@pytest.mark.parametrize("source", HOSTILE)
def test_markdown_renders_hostile_input_harmless(source):
    from consultations.markdown import ALLOWED_TAGS

    rendered = render_markdown(source)
    markup = _Markup()
    markup.feed(rendered)
    assert markup.tags <= ALLOWED_TAGS, markup.tags
    assert not [name for name, _ in markup.attributes if name.startswith("on") or name == "style"]
    assert not [v for _, v in markup.attributes if v and v.strip().lower().startswith(("javascript:", "data:"))]
    # Raw HTML typed in a text is shown as that text, escaped (issue 10): the checks
    # below hold for everything else in the rendering.
    if source.startswith("<"):
        assert escape(source, quote=False) in rendered
    html = rendered.lower().replace(escape(source, quote=False).lower(), "")
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


# -- issue 10: open redirects through next= ---------------------------------------------

# Raw query strings (already percent-encoded as an attacker would send them).
EVIL_NEXT = [
    "/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "/%0d%0a/evil.example", "%09//evil.example",
    "/\\evil.example", "\\/\\/evil.example", "/%2F/evil.example", "/%2f%2fevil.example", "/%5Cevil.example",
    "//evil.example", "///evil.example", "https://evil.example", "/%00/evil.example", "%20//evil.example",
    "/%E2%80%8B/evil.example", "javascript:alert(1)", "/%09%09/evil.example",
]


def _is_local(location: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(location.replace("\t", "").replace("\n", "").replace("\r", ""))
    return location.startswith("/") and not location.startswith(("//", "/\\")) and not parts.netloc and "evil" not in location


@pytest.mark.parametrize("raw", EVIL_NEXT)
def test_login_next_never_leaves_the_site(client, make_user, raw):
    from .conftest import PASSWORD

    user = make_user()
    response = client.post(f"/login?next={raw}", data={"email": user.email, "password": PASSWORD})
    if "%00" in raw:  # a NUL in the address is refused before anything else
        assert response.status_code == 400
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/", raw
    assert _is_local(response.headers["Location"])


@pytest.mark.parametrize("raw", EVIL_NEXT)
def test_language_switcher_next_never_leaves_the_site(client, raw):
    from urllib.parse import unquote

    for value in (unquote(raw), raw):
        response = client.post("/language", data={"locale": "fr", "next": value})
        assert response.status_code == 302
        assert response.headers["Location"] == "/", value


def test_next_still_follows_local_paths(client, make_user):
    from .conftest import PASSWORD

    response = client.post("/language", data={"locale": "fr", "next": "/consultations/?q=a%2Fb&page=2"})
    assert response.headers["Location"] == "/consultations/?q=a%2Fb&page=2"
    user = make_user()
    response = client.post("/login?next=%2Fobjectives%2F3%3Fpage%3D2", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/objectives/3?page=2"


def test_safe_next_refuses_what_a_browser_could_normalise_away():
    from consultations.http import safe_next

    for target in ("/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\\evil", "\\/\\/evil", "/%2F/evil",
                   "/\x00/evil", "/\u200b/evil", "/\u2028/evil", None, "", "evil.example", "/%5C%5Cevil"):
        assert safe_next(target, "/home") == "/home", repr(target)
    assert safe_next("/consultations/6?objective=3", "/home") == "/consultations/6?objective=3"


# -- issue 10: raw HTML typed in a text is shown as text, never dropped ----------------------

VANISHING = [
    "<script>alert(1)</script> rest of the text",
    "Before\n\n<textarea>\n\nrest of the text",
    "<style>p{display:none}</style> rest of the text",
    "<iframe src=x> rest of the text",
    "<noscript> rest of the text",
    "<xmp>rest of the text",
    "Before <b>bold?</b>\n\n<div>\nrest of the text\n</div>",
]


@pytest.mark.parametrize("source", VANISHING)
def test_raw_html_is_shown_as_text(source):
    html = render_markdown(source)
    assert "rest of the text" in html
    tag = re.match(r".*?<(\w+)", source, re.DOTALL).group(1)
    assert f"&lt;{tag}" in html  # what was typed is visible
    assert f"<{tag}" not in html  # and inert
    # The allowlist still holds; Markdown formatting and autolinks still work.
    assert "<strong>x</strong>" in render_markdown("**x** <https://iom.int>")
    assert 'href="https://iom.int"' in render_markdown("**x** <https://iom.int>")


def test_raw_html_in_a_contribution_stays_in_the_page_and_the_documents(client, auth, make_user, make_consultation):
    import io

    from docx import Document

    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    auth.login(make_user())
    for n, source in enumerate(VANISHING):
        response = client.post(
            f"/consultations/{consultation.id}/contribute",
            data={"kind": "challenge", "title": f"Raw {n}", "body": source.replace("rest", f"rest{n}"), "objectives": ["1"]},
        )
        assert response.status_code == 302
    auth.logout()
    auth.login(organiser)
    contributions = db.session.scalars(select(Contribution).order_by(Contribution.id)).all()
    for n, contribution in enumerate(contributions):
        html = client.get(f"/contributions/{contribution.id}").get_data(as_text=True)
        assert f"rest{n} of the text" in html, VANISHING[n]
        assert "&lt;" in html.split(f"Raw {n}", 1)[1]
    docx = client.get(f"/consultations/{consultation.id}/summary/download.docx")
    assert docx.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(docx.data)).paragraphs)
    docx.close()
    for n, source in enumerate(VANISHING):
        assert f"rest{n} of the text" in text, source
    assert "<script>alert(1)</script>" in text  # shown as typed
    pdf = client.get(f"/consultations/{consultation.id}/summary/download.pdf")
    assert pdf.status_code == 200
    from .test_summaries_exports import _pdf_text

    text = " ".join(_pdf_text(pdf.data).split())
    pdf.close()
    for n, source in enumerate(VANISHING):
        assert f"rest{n} of the text" in text, source


def test_rerender_markdown_command_repairs_html_stored_by_the_old_renderer(app, make_consultation, make_contribution):
    from sqlalchemy import update

    consultation = make_consultation()
    contribution = make_contribution(consultation, body="<script>x</script> kept text")
    ordinary = make_contribution(consultation, body="Plain **text**.")
    # What the old renderer stored: the text after <script> dropped.
    db.session.execute(update(Contribution).where(Contribution.id == contribution.id).values(body_html="\n<p>x</p>"))
    db.session.commit()
    before = {c.id: (c.updated_at, c.body_html) for c in db.session.scalars(select(Contribution))}
    db.session.expire_all()
    result = app.test_cli_runner().invoke(args=["rerender-markdown"])
    assert result.exit_code == 0, result.output
    assert "contributions.body_html: 1 row rendered again" in result.output
    db.session.expire_all()
    repaired = db.session.get(Contribution, contribution.id)
    assert "&lt;script&gt;x&lt;/script&gt; kept text" in repaired.body_html
    assert repaired.updated_at == before[contribution.id][0]  # the text did not change
    assert db.session.get(Contribution, ordinary.id).body_html == before[ordinary.id][1]
    again = app.test_cli_runner().invoke(args=["rerender-markdown"])
    assert "contributions.body_html: 0 rows rendered again" in again.output
