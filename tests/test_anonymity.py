"""Issue 10, anonymity and moderation holes: the secret-code page, dates only, logs,
throttled codes, retried forms, and what account deletion leaves behind."""
from __future__ import annotations

import http.cookiejar
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import time as clock
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from consultations.audit.models import AuditEvent
from consultations.contributions import services
from consultations.contributions.models import Contribution
from consultations.extensions import db, limiter
from consultations.moderation import services as moderation

ROOT = Path(__file__).resolve().parents[1]
TITLE = "Fear of going to the doctor"
BODY = "People without papers do not go to the health centre."


def _form(**overrides):
    data = {"category": "migrant_association", "level": "", "kind": "challenge", "title": TITLE,
            "body": BODY, "objectives": ["15", "7"]}
    data.update(overrides)
    return data


@pytest.fixture
def linked(make_user, make_consultation):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    token = services.open_anonymous_link(consultation)
    db.session.commit()
    return consultation, token, organiser


def _submit(client, token, **overrides):
    response = client.post(f"/c/{token}", data=_form(**overrides))
    assert response.status_code == 201, response.get_data(as_text=True)
    code = re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True)).group(1)
    contribution = db.session.scalar(select(Contribution).order_by(Contribution.id.desc()))
    return contribution, code


def _page(client, contribution_id, **data):
    if data:
        return client.post(f"/contributions/{contribution_id}/code", data={"step": "code", **data})
    return client.get(f"/contributions/{contribution_id}/code")


# -- the code page reveals nothing before the right code -----------------------------

@pytest.mark.parametrize("status", ["active", "pending", "hidden", "withdrawn"])
def test_code_page_shows_nothing_before_the_right_code(app, linked, make_contribution, status):
    consultation, token, organiser = linked
    client = app.test_client()
    contribution, code = _submit(client, token)
    if status != "active":
        contribution.status = status
        contribution.moderation_note = "Names a person" if status == "hidden" else ""
        db.session.commit()
    with_account = make_contribution(consultation, title="Signed contribution")
    missing = with_account.id + 1000

    def normalised(response, number):
        return response.get_data(as_text=True).replace(f"/contributions/{number}/code", "/contributions/N/code")

    page = _page(client, contribution.id)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert TITLE not in html and BODY not in html and "Names a person" not in html
    # The same page whatever the number: an anonymous contribution, one with an author, none.
    assert normalised(page, contribution.id) == normalised(_page(client, with_account.id), with_account.id)
    assert normalised(page, contribution.id) == normalised(_page(client, missing), missing)
    # A wrong code: the same refusal for all of them, and still nothing shown.
    wrong = [_page(client, n, code="not-the-code") for n in (contribution.id, with_account.id, missing)]
    assert [r.status_code for r in wrong] == [422, 422, 422]
    assert "This code does not match this contribution." in wrong[0].get_data(as_text=True)
    assert len({normalised(r, n) for r, n in zip(wrong, (contribution.id, with_account.id, missing))}) == 1
    assert TITLE not in wrong[0].get_data(as_text=True)
    # A wrong code on the full form shows what was typed, never what is stored.
    typed = client.post(f"/contributions/{contribution.id}/code",
                        data=_form(code="not-the-code", title="Typed title", body="Typed body"))
    assert typed.status_code == 422
    html = typed.get_data(as_text=True)
    assert "Typed title" in html and "Typed body" in html and TITLE not in html and BODY not in html
    # The right code shows it, with what moderation decided.
    right = _page(client, contribution.id, code=code)
    assert right.status_code == 200 and right.headers["Cache-Control"] == "no-store"
    html = right.get_data(as_text=True)
    assert TITLE in html
    if status == "hidden":
        assert "Names a person" in html and 'name="action"' not in html
    elif status == "withdrawn":
        assert "can no longer be changed" in html and 'name="action"' not in html
    else:
        assert 'name="action"' in html


def test_code_page_of_a_draft_consultation_reveals_nothing(app, linked):
    from consultations.consultations.models import Consultation

    consultation, token, _ = linked
    client = app.test_client()
    contribution, code = _submit(client, token)
    db.session.get(Consultation, consultation.id).state = "draft"
    db.session.commit()
    response = _page(client, contribution.id, code=code)
    assert response.status_code == 422 and TITLE not in response.get_data(as_text=True)


def test_after_a_change_the_author_stays_on_the_code_page(app, linked):
    _, token, _ = linked
    client = app.test_client()
    contribution, code = _submit(client, token)
    response = client.post(f"/contributions/{contribution.id}/code", data=_form(code=code, title="Changed"))
    # Not to /contributions/<id>: that request would be logged, dated, right after the change.
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/contributions/{contribution.id}/code")
    assert "Your changes are saved." in client.get(response.headers["Location"]).get_data(as_text=True)


# -- dates only ------------------------------------------------------------------------

def _is_date_only(value):
    return value is None or value.time() == clock(0, 0)


def _all_dates_only(contribution_id):
    db.session.expire_all()
    contribution = db.session.get(Contribution, contribution_id)
    stamps = {c.key: getattr(contribution, c.key) for c in inspect(Contribution).mapper.column_attrs
              if c.key.endswith("_at")}
    assert all(_is_date_only(v) for v in stamps.values()), stamps
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.target_type == "contribution",
                                                         AuditEvent.target_id == contribution_id)).all()
    assert all(_is_date_only(e.created_at) for e in events), [(e.action, e.created_at) for e in events]
    return contribution, events


def test_withdrawing_stores_the_date_only(app, linked):
    _, token, _ = linked
    client = app.test_client()
    contribution, code = _submit(client, token)
    url = f"/contributions/{contribution.id}/code"
    assert client.post(url, data=_form(code=code, title="Changed")).status_code == 302
    _all_dates_only(contribution.id)
    assert client.post(url, data=_form(code=code, action="withdraw")).status_code == 302
    contribution, _events = _all_dates_only(contribution.id)
    assert contribution.status == "withdrawn"


def test_moderation_of_an_anonymous_contribution_stores_the_date_only(app, linked):
    from consultations.moderation.services import set_premoderation
    from consultations.roundtables.services import mark_addressed

    consultation, token, organiser = linked
    set_premoderation(consultation, True, organiser)
    db.session.commit()
    contribution, _code = _submit(app.test_client(), token)
    assert contribution.status == "pending"
    moderation.approve(contribution, organiser)
    db.session.commit()
    _all_dates_only(contribution.id)
    moderation.flag(contribution, "Offensive")
    moderation.hide(contribution, organiser, "Offensive")
    db.session.commit()
    _all_dates_only(contribution.id)
    moderation.restore(contribution, organiser)
    mark_addressed(contribution, "Discussed with the health service")
    db.session.commit()
    contribution, events = _all_dates_only(contribution.id)
    assert contribution.addressed_at is not None
    assert [e.action for e in events] == ["contribution.approved", "contribution.hidden", "contribution.restored"]


def test_contributions_with_an_account_keep_their_time(app, make_consultation, make_contribution, make_user):
    organiser = make_user(role="organiser")
    contribution = make_contribution(make_consultation(organiser=organiser))
    moderation.hide(contribution, organiser, "Spam")
    db.session.commit()
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "contribution.hidden"))
    # Not a proof by itself (a test may run at midnight), but the listener leaves these alone.
    assert event.created_at is not None and contribution.updated_at is not None


# -- logs -------------------------------------------------------------------------------

def test_mesa_log_names_no_anonymous_route(app, linked, caplog, monkeypatch):
    _, token, _ = linked
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "submit_anonymous", broken)
    with caplog.at_level(logging.INFO):
        response = app.test_client().post(f"/c/{token}", data=_form())
    assert response.status_code == 500
    assert "boom" in caplog.text  # the error is logged
    assert token not in caplog.text and "/c/" not in caplog.text


def test_werkzeug_filter_drops_anonymous_requests():
    from consultations.web import AnonymousRouteLogFilter

    for line in ("POST /c/abc HTTP/1.1", "GET /contributions/12/code HTTP/1.1",
                 "\x1b[32mPOST /contributions/12/code HTTP/1.1\x1b[0m", "GET //c/abc HTTP/1.1"):
        record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '203.0.113.7 - - [01/Dec/2026 10:00:01] "%s" %s -',
                                   (line, 302), None)
        assert AnonymousRouteLogFilter().filter(record) is False, line
        assert "203.0.113.7" not in record.getMessage() and "10:00:01" not in record.getMessage()
    kept = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - [x] "%s" %s -',
                             ("203.0.113.7", "GET /contributions/12 HTTP/1.1", 200), None)
    assert AnonymousRouteLogFilter().filter(kept) is True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SETUP = textwrap.dedent("""
    from flask_migrate import upgrade
    from consultations import create_app
    from consultations.extensions import db
    from consultations.accounts.services import register_user
    from consultations.consultations.services import change_state, create_consultation
    from consultations.contributions.services import open_anonymous_link
    from datetime import date
    app = create_app()
    with app.app_context():
        upgrade()
        organiser = register_user("org@example.org", "Organiser", "a long password 123", role="organiser")
        consultation = create_consultation(organiser, title="Logs", kind="online_call", opens_on=date(2024, 2, 1),
            closes_on=date(2024, 3, 1), description="x", territory="Spain", language="en", focus=(1,),
            eligibility="registered", invited=[])
        change_state(consultation, "open")
        token = open_anonymous_link(consultation)
        db.session.commit()
        print(token)
""")


@pytest.fixture
def server_env(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'mesa.db'}", "SECRET_KEY": "log-test-secret",
           "MESA_RATELIMIT_ENABLED": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("FLASK_DEBUG", None)
    result = subprocess.run([sys.executable, "-c", _SETUP], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return env, result.stdout.strip().splitlines()[-1]


def _anonymous_session(base: str, token: str) -> list[str]:
    """What an anonymous author does: open the link, send, open the code page, change.
    Returns the paths that named the token or the contribution."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(path, data=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with opener.open(base + path, data=body, timeout=30) as response:
                return response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.read().decode()

    def csrf(html):
        return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    form = call(f"/c/{token}")
    key = re.search(r'name="submission_key" type="hidden" value="([^"]+)"', form).group(1)
    done = call(f"/c/{token}", {**_form(), "csrf_token": csrf(form), "submission_key": key})
    code = re.search(r"<code>([^<]+)</code>", done).group(1)
    number = re.search(r"/contributions/(\d+)/code", done).group(1)
    page = call(f"/contributions/{number}/code")
    call(f"/contributions/{number}/code", {"step": "code", "code": "wrong", "csrf_token": csrf(page)})
    unlocked = call(f"/contributions/{number}/code", {"step": "code", "code": code, "csrf_token": csrf(page)})
    call(f"/contributions/{number}/code", {**_form(title="Changed"), "code": code, "csrf_token": csrf(unlocked)})
    call("/about")  # an ordinary request, which is logged
    return [token, f"/contributions/{number}/code", f"/c/{token}"]


def _run_server(command, env, port, log_path):
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise AssertionError(Path(log_path).read_text())
            time.sleep(0.3)
    process.kill()
    raise AssertionError("the server did not start: " + Path(log_path).read_text())


def _stop(process):
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("server", ["gunicorn", "flask"])
def test_real_server_logs_nothing_of_anonymous_requests(server_env, tmp_path, server):
    env, token = server_env
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    if server == "gunicorn":
        command = [str(bin_dir / "gunicorn"), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "-w", "1", "app:app"]
    else:
        command = [str(bin_dir / "flask"), "--app", "app", "run", "--port", str(port), "--no-reload"]
    log_path = tmp_path / f"{server}.log"
    process = _run_server(command, env, port, log_path)
    try:
        secrets = _anonymous_session(f"http://127.0.0.1:{port}", token)
    finally:
        _stop(process)
    log = log_path.read_text()
    assert "GET /about" in log, log  # the log works
    for secret in secrets:
        assert secret not in log, (secret, log)
    assert "/code" not in log and "/c/" not in log, log


# -- throttled codes ---------------------------------------------------------------------

@pytest.fixture
def throttled(app):
    app.config.update(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                      MESA_LIMIT_CODE_CONTRIBUTION="3 per minute", MESA_LIMIT_CODE_ADDRESS="5 per minute")
    limiter.init_app(app)
    return app


def test_wrong_codes_are_throttled_per_contribution(throttled, linked):
    _, token, _ = linked
    first, code = _submit(throttled.test_client(), token)
    second, second_code = _submit(throttled.test_client(), token, title="Another")
    for n in range(3):
        client = throttled.test_client()
        response = client.post(f"/contributions/{first.id}/code", data={"step": "code", "code": "guess"},
                               environ_base={"REMOTE_ADDR": f"10.9.0.{n}"})
        assert response.status_code == 422
    refused = throttled.test_client().post(f"/contributions/{first.id}/code", data={"step": "code", "code": code},
                                           environ_base={"REMOTE_ADDR": "10.9.1.1"})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    html = refused.get_data(as_text=True)
    assert "Too many wrong codes" in html and TITLE not in html
    # Another contribution is not affected, and right codes do not count.
    for _ in range(4):
        ok = throttled.test_client().post(f"/contributions/{second.id}/code", data={"step": "code", "code": second_code},
                                          environ_base={"REMOTE_ADDR": "10.9.2.1"})
        assert ok.status_code == 200


def test_wrong_codes_are_throttled_per_address(throttled, linked):
    _, token, _ = linked
    contributions = [_submit(throttled.test_client(), token, title=f"Item {n}")[0] for n in range(6)]
    client = throttled.test_client()
    statuses = [client.post(f"/contributions/{c.id}/code", data={"step": "code", "code": "guess"},
                            environ_base={"REMOTE_ADDR": "10.8.0.1"}).status_code for c in contributions]
    assert statuses == [422] * 5 + [429]


# -- a retried form gets the same code -----------------------------------------------------

def test_retried_anonymous_form_shows_the_same_code(app, linked):
    _, token, _ = linked
    client = app.test_client()
    data = _form(submission_key="retried-key-0123456789abcdef")
    first = client.post(f"/c/{token}", data=data)
    assert first.status_code == 201
    code = re.search(r"<code>([^<]+)</code>", first.get_data(as_text=True)).group(1)
    again = client.post(f"/c/{token}", data=data)
    assert again.status_code == 200 and again.headers["Cache-Control"] == "no-store"
    html = again.get_data(as_text=True)
    assert re.search(r"<code>([^<]+)</code>", html).group(1) == code
    assert "already received" in html
    contributions = db.session.scalars(select(Contribution)).all()
    assert len(contributions) == 1
    # Neither the code nor the form's key is stored in clear.
    row = repr({c.key: getattr(contributions[0], c.key) for c in inspect(Contribution).mapper.column_attrs})
    assert code not in row and "retried-key-0123456789abcdef" not in row
    # The code works.
    assert _page(client, contributions[0].id, code=code).status_code == 200
    # The same key with other content (a reused form) gets no code.
    other = client.post(f"/c/{token}", data={**data, "title": "Something else"})
    assert other.status_code == 200 and "<code>" not in other.get_data(as_text=True)


# -- what account deletion leaves behind ----------------------------------------------------

def _register_and_login(client, email, organisation_name):
    from consultations.accounts.services import find_by_email

    assert client.post("/register", data={
        "email": email, "display_name": "Amina", "password": "a long password 123", "confirm": "a long password 123",
        "acts_as": "organisation", "organisation_name": organisation_name, "organisation_category": "ngo",
        "individual_category": "other",
    }).status_code == 302
    user = find_by_email(email)
    from consultations.timeutil import utcnow

    user.email_confirmed_at = utcnow()
    db.session.commit()
    assert client.post("/login", data={"email": email, "password": "a long password 123"}).status_code == 302
    return user


def _delete(client, contributions="keep"):
    return client.post("/account/delete", data={"contributions": contributions, "password": "a long password 123",
                                                "confirm": "y"})


def test_deletion_removes_the_organisation_made_at_registration(app, make_consultation, make_contribution):
    from consultations.organisations.models import Organisation

    client = app.test_client()
    user = _register_and_login(client, "amina@example.org", "Amina's Own Collective")
    organisation_id = user.organisation_id
    assert organisation_id is not None
    make_contribution(make_consultation(), author=user)  # kept without the name: does not need it
    page = client.get("/account/delete").get_data(as_text=True)
    assert "What stays, and why" in page and "The text of the reports you made" in page
    assert _delete(client).status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, organisation_id) is None
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Amina's Own Collective")) is None


def test_deletion_keeps_an_organisation_others_need(app, make_user, make_consultation, make_contribution):
    from consultations.organisations.models import Organisation

    client = app.test_client()
    user = _register_and_login(client, "shared@example.org", "Shared Network")
    colleague = make_user(organisation=db.session.get(Organisation, user.organisation_id))
    assert _delete(client).status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, colleague.organisation_id).name == "Shared Network"


def test_deletion_removes_the_text_of_the_persons_reports(app, make_user, make_consultation, make_contribution):
    from consultations.contributions.models import Flag

    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    dealt_with = make_contribution(consultation)
    still_open = make_contribution(consultation)
    someone_elses = make_contribution(consultation)
    client = app.test_client()
    _register_and_login(client, "reporter@example.org", "Reporters Org")
    for contribution, reason in ((dealt_with, "My neighbour Juan wrote this"), (still_open, "I, Amina, find this hateful")):
        assert client.post(f"/contributions/{contribution.id}/flag", data={"reason": reason}).status_code == 302
    assert app.test_client().post(f"/contributions/{someone_elses.id}/flag",
                                  data={"reason": "Spam from a visitor"}).status_code == 302
    moderation.dismiss_flags(dealt_with, organiser)
    db.session.commit()
    assert _delete(client).status_code == 302
    db.session.expire_all()
    reasons = {f.contribution_id: f.reason for f in db.session.scalars(select(Flag))}
    assert dealt_with.id not in reasons
    assert reasons[still_open.id] == "" and reasons[someone_elses.id] == "Spam from a visitor"
    assert all(f.reporter_id is None for f in db.session.scalars(select(Flag)))
    # The organisers still see the open report, and that its text went with the account.
    queue = _organiser_client(app, organiser).get(f"/consultations/{consultation.id}/moderation").get_data(as_text=True)
    assert "text removed" in queue and "Amina" not in queue


def _organiser_client(app, organiser):
    from .conftest import PASSWORD

    client = app.test_client()
    assert client.post("/login", data={"email": organiser.email, "password": PASSWORD}).status_code == 302
    return client
