"""Interface languages (Flask-Babel): complete catalogues, the switcher, negotiation,
right-to-left Arabic, locale formatting, and the languages of contributions."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from consultations.extensions import db

from .conftest import PASSWORD

TRANSLATIONS = Path(__file__).resolve().parent.parent / "consultations" / "translations"
TRANSLATED = ("es", "pt", "fr", "ar")
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s")


def _catalogue(locale):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh, locale=locale)


def _forms(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


# -- the catalogues -------------------------------------------------------------------

def test_every_language_has_a_catalogue():
    for locale in ("en", *TRANSLATED):
        assert (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").is_file(), locale


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogue_is_complete_and_not_fuzzy(locale):
    catalogue = _catalogue(locale)
    assert len(catalogue) > 500
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        if any(not form for form in _forms(message.string)):
            problems.append(f"untranslated: {message.id!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        wanted = sorted(PLACEHOLDER.findall(_forms(message.id)[-1]))
        for form in _forms(message.string):
            if form and sorted(PLACEHOLDER.findall(form)) != wanted:
                problems.append(f"placeholders differ: {message.id!r}")
    assert problems == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogue_matches_the_template(locale):
    """Every message extracted from the code (messages.pot) is in the catalogue:
    run `pybabel extract` and `pybabel update` (docs/translations.md) after marking strings."""
    with open(TRANSLATIONS / "messages.pot", "rb") as fh:
        template = read_po(fh)
    ids = {m.id for m in _catalogue(locale) if m.id}
    missing = [m.id for m in template if m.id and m.id not in ids]
    assert missing == []


@pytest.mark.parametrize("locale", ("en", *TRANSLATED))
def test_compiled_catalogues_are_up_to_date(locale):
    """The committed .mo files say what the .po files say (`pybabel compile` after editing)."""
    def key(value):
        return tuple(value) if isinstance(value, (tuple, list)) else value

    def translated(messages):
        # Untranslated entries (empty, or compiled as the message id itself) say nothing.
        return {
            key(m.id): key(m.string)
            for m in messages
            if m.id and any(_forms(m.string)) and key(m.string) != key(m.id)
        }

    po = translated(_catalogue(locale))
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        mo = translated(read_mo(fh))
    assert len(po) > (500 if locale != "en" else -1)
    assert mo == po


def test_gcm_vocabulary_is_in_the_catalogues_and_marked_unofficial():
    from consultations import reference

    for locale in TRANSLATED:
        by_id = {m.id: m for m in _catalogue(locale) if m.id}
        for title in [o.title_en for o in reference.objectives()] + [p.title_en for p in reference.principles()]:
            message = by_id[title]
            assert message.string and message.string != title or locale == "fr" and title.startswith("Organisation")
            assert any("not official UN wording" in c for c in message.auto_comments + message.user_comments), (
                locale, title
            )


# -- pages in every language -----------------------------------------------------------

PAGES = ["/", "/about", "/privacy", "/consultations/", "/objectives/", "/objectives/1", "/organisations/", "/login",
         "/register", "/password/forgot", "/no-such-page"]
NAV = {"en": "Consultations", "es": "Consultas", "pt": "Consultas", "fr": "Consultations", "ar": "المشاورات"}
SKIP = {"en": "Skip to content", "es": "Saltar al contenido", "pt": "Saltar para o conteúdo",
        "fr": "Aller au contenu", "ar": "الانتقال إلى المحتوى"}


@pytest.mark.parametrize("locale", ("en", *TRANSLATED))
def test_pages_render_in_each_language(client, make_consultation, locale):
    consultation = make_consultation(state="open")
    for url in [*PAGES, f"/consultations/{consultation.id}"]:
        response = client.get(url, query_string={"lang": locale})
        html = response.get_data(as_text=True)
        assert response.status_code in (200, 404), url
        assert f'<html lang="{locale}" dir="{"rtl" if locale == "ar" else "ltr"}">' in html, url
        assert SKIP[locale] in html and NAV[locale] in html, url
        if locale != "en":
            assert "Skip to content" not in html, url


def test_arabic_pages_are_right_to_left(client, auth, make_user, make_consultation, make_contribution):
    user = make_user()
    consultation = make_consultation(state="open", accepted_languages=["en", "ar"])
    contribution = make_contribution(consultation, author=user, title="التحدي", language="ar")
    auth.login(user)
    client.post("/language", data={"locale": "ar", "next": "/"})
    for url in ["/", f"/consultations/{consultation.id}", f"/contributions/{contribution.id}",
                f"/consultations/{consultation.id}/contribute", "/account"]:
        html = client.get(url).get_data(as_text=True)
        assert '<html lang="ar" dir="rtl">' in html, url
    html = client.get(f"/contributions/{contribution.id}").get_data(as_text=True)
    assert '<h1 dir="auto" lang="ar">التحدي</h1>' in html


# -- choosing the language ---------------------------------------------------------------

def test_switcher_is_on_every_page_and_posts_with_csrf(csrf_app):
    client = csrf_app.test_client()
    html = client.get("/").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/language".*?</form>', html, re.S).group(0)
    assert 'name="csrf_token"' in form and 'name="locale"' in form
    assert '<option value="ar" lang="ar"' in form
    # Without the token the choice is refused (the CSRF page), and nothing changes.
    assert client.post("/language", data={"locale": "es"}).status_code == 400
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_anonymous_choice_is_remembered_in_the_session(client):
    response = client.post("/language", data={"locale": "es", "next": "/consultations/?q=x"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/consultations/?q=x")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in html and "Consultas" in html
    # The choice beats the browser's preference.
    assert 'lang="es"' in client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)


def test_account_choice_is_remembered_across_sessions(app, make_user):
    user = make_user()
    first = app.test_client()
    first.post("/login", data={"email": user.email, "password": PASSWORD})
    first.post("/language", data={"locale": "pt", "next": "/"})
    db.session.refresh(user)
    assert user.locale == "pt"
    second = app.test_client()  # another browser: no session yet
    second.post("/login", data={"email": user.email, "password": PASSWORD})
    html = second.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="pt" dir="ltr">' in html


def test_accept_language_negotiation(client):
    def lang(header):
        return re.search(r'<html lang="(\w+)"', client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)).group(1)

    assert lang("fr-FR,fr;q=0.9,en;q=0.5") == "fr"
    assert lang("de-DE,de;q=0.9,ar;q=0.8") == "ar"
    assert lang("pt-BR") == "pt"
    assert lang("de, ja") == "en"  # nothing we offer: the platform default
    assert lang("") == "en"


@pytest.mark.parametrize("bad", ["xx", "", "e", "es-ES-x-" + "a" * 50, "<script>", "ES_es;DROP"])
def test_unknown_language_codes_fall_back_cleanly(client, bad):
    response = client.get("/", query_string={"lang": bad})
    assert response.status_code == 200
    assert '<html lang="en" dir="ltr">' in response.get_data(as_text=True)
    response = client.post("/language", data={"locale": bad, "next": "/about"})
    assert response.status_code == 302
    html = client.get("/about").get_data(as_text=True)
    assert '<html lang="en"' in html
    assert "Choose one of the languages offered." in html


def test_a_stored_unknown_code_falls_back(app, make_user):
    user = make_user()
    user.locale = "zz"
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as session:
        session["locale"] = "<bad>"
    assert '<html lang="en"' in client.get("/").get_data(as_text=True)
    assert '<html lang="es"' in client.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)


def test_switcher_does_not_redirect_off_site(client):
    response = client.post("/language", data={"locale": "fr", "next": "//evil.example/"})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_missing_translation_falls_back_to_english(app):
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"):
        with force_locale("es"):
            assert gettext("A sentence that no catalogue holds.") == "A sentence that no catalogue holds."
            assert gettext("Consultations") == "Consultas"
        with force_locale("en"):  # the English catalogue is empty: the message ids show
            assert gettext("Consultations") == "Consultations"


# -- formatting ----------------------------------------------------------------------------

def test_dates_are_formatted_for_the_locale(client, make_consultation):
    consultation = make_consultation(state="open")  # 1 February – 1 March 2024
    url = f"/consultations/{consultation.id}"
    assert "1 February 2024" in client.get(url).get_data(as_text=True)
    assert "1 de febrero de 2024" in client.get(url, query_string={"lang": "es"}).get_data(as_text=True)
    assert "1 février 2024" in client.get(url, query_string={"lang": "fr"}).get_data(as_text=True)
    assert "1 de fevereiro de 2024" in client.get(url, query_string={"lang": "pt"}).get_data(as_text=True)
    assert "فبراير" in client.get(url, query_string={"lang": "ar"}).get_data(as_text=True)


def test_reference_labels_follow_the_interface_language(app):
    from flask_babel import force_locale

    from consultations import reference

    with app.test_request_context("/"):
        with force_locale("es"):
            assert reference.voice_label("public_administration", "regional") == "Administración pública (regional)"
            assert reference.objective(8).title.startswith("Salvar vidas")
        assert reference.voice_label("public_administration", "regional") == "Public administration (regional)"
        # The stored keys and the English data stay as they are.
        assert reference.STAKEHOLDER_CATEGORIES["ngo"] == "NGO"


# -- languages of contributions -----------------------------------------------------------

def _consultation_form(**changes):
    data = {
        "title": "Consulta", "kind": "online_call", "description": "", "territory": "", "language": "es",
        "accepted_languages": ["en", "ar"], "opens_on": "2024-02-01", "closes_on": "2024-03-01",
        "eligibility": "registered",
    }
    data.update(changes)
    return data


def test_consultation_declares_its_languages(client, auth, make_user):
    from consultations.consultations.models import Consultation

    auth.login(make_user(role="organiser"))
    response = client.post("/consultations/new", data=_consultation_form())
    assert response.status_code == 302
    consultation = db.session.scalars(db.select(Consultation)).one()
    assert consultation.accepted_language_codes == ["en", "es", "ar"]  # the main language is always accepted
    html = client.get(f"/consultations/{consultation.id}/edit").get_data(as_text=True)
    assert re.search(r'value="ar" checked|checked[^>]*value="ar"', html)


@pytest.mark.parametrize("bad", ["xx", "<b>", "e" * 300])
def test_consultation_refuses_unknown_languages(client, auth, make_user, bad):
    auth.login(make_user(role="organiser"))
    response = client.post("/consultations/new", data=_consultation_form(accepted_languages=["en", bad]))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="accepted_languages-error"' in html and "Choose languages from the list." in html


def test_contribution_records_its_language_defaulting_to_the_interface(client, auth, make_user, make_consultation):
    consultation = make_consultation(state="open", language="es", accepted_languages=["ar", "en"])
    auth.login(make_user())
    url = f"/consultations/{consultation.id}/contribute"
    html = client.get(url, query_string={"lang": "ar"}).get_data(as_text=True)
    assert re.search(r'<option selected value="ar">|<option value="ar" selected>', html)
    html = client.get(url, query_string={"lang": "fr"}).get_data(as_text=True)  # French not accepted: main language
    assert re.search(r'<option selected value="es">|<option value="es" selected>', html)
    assert 'value="fr"' not in re.search(r'<select[^>]*name="language".*?</select>', html, re.S).group(0)
    response = client.post(url, data={"kind": "challenge", "title": "مشكلة السكن", "body": "نص **عربي**",
                                      "objectives": ["1"], "language": "ar"})
    assert response.status_code == 302
    from consultations.contributions.models import Contribution

    contribution = db.session.scalars(db.select(Contribution)).one()
    assert contribution.language == "ar" and contribution.title == "مشكلة السكن"
    html = client.get(f"/contributions/{contribution.id}").get_data(as_text=True)
    assert '<div class="prose" dir="auto" lang="ar">' in html and "<strong>عربي</strong>" in html


@pytest.mark.parametrize("bad", ["fr", "xx", "<script>", "e" * 50])
def test_contribution_in_a_language_the_consultation_does_not_accept(client, auth, make_user, make_consultation, bad):
    consultation = make_consultation(state="open", language="en", accepted_languages=["es"])
    auth.login(make_user())
    response = client.post(f"/consultations/{consultation.id}/contribute",
                           data={"kind": "challenge", "title": "T", "objectives": ["1"], "language": bad})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="language-error"' in html
    if len(bad) <= 10:  # longer codes are stopped by the form's length check, also beside the field
        assert "This consultation does not accept contributions in this language." in html


def test_anonymous_contribution_language(client, make_consultation):
    from consultations.contributions import services

    consultation = make_consultation(state="open", accepted_languages=["en", "pt"])
    token = services.open_anonymous_link(consultation)
    db.session.commit()
    data = {"category": "other", "level": "", "kind": "proposal", "title": "Proposta", "objectives": ["3"]}
    response = client.post(f"/c/{token}", data={**data, "language": "ar"})
    assert response.status_code == 422 and 'id="language-error"' in response.get_data(as_text=True)
    assert client.post(f"/c/{token}", data={**data, "language": "pt"}).status_code == 201


def test_lists_filter_by_language_and_summaries_count_by_language(client, make_consultation, make_contribution):
    from consultations.contributions.services import contributions_by_language

    consultation = make_consultation(state="open", accepted_languages=["en", "es", "ar"])
    make_contribution(consultation, title="English one")
    make_contribution(consultation, title="Una en español", language="es")
    make_contribution(consultation, title="واحدة بالعربية", language="ar")
    make_contribution(consultation, title="Otra en español", language="es")
    html = client.get(f"/consultations/{consultation.id}", query_string={"language": "es"}).get_data(as_text=True)
    assert "Una en español" in html and "Otra en español" in html
    assert "English one" not in html and "واحدة بالعربية" not in html
    assert 'lang="es">Una en español</a>' in html
    # An unknown language in the URL is ignored (with its message), not an error.
    response = client.get(f"/consultations/{consultation.id}", query_string={"language": "zz"})
    assert response.status_code == 200 and "English one" in response.get_data(as_text=True)
    assert contributions_by_language([consultation.id]) == {"ar": 1, "en": 1, "es": 2}
    assert contributions_by_language([]) == {}


def test_consultation_service_rejects_unknown_language(app, make_user):
    from datetime import date

    from consultations.consultations.services import ConsultationError, create_consultation

    with pytest.raises(ConsultationError) as exc:
        create_consultation(make_user(role="organiser"), title="T", kind="online_call", opens_on=date(2024, 1, 1),
                            closes_on=date(2024, 2, 1), accepted_languages=["en", "klingon"])
    assert exc.value.field == "accepted_languages"
