"""Accounts under attack: throttling, password rules, reset links, session lifetime."""
from __future__ import annotations

import re
import socket
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consultations.accounts import services
from consultations.accounts.models import AccountToken, User
from consultations.accounts.passwords import common_passwords, password_problem
from consultations.audit.models import AuditEvent
from consultations.extensions import db, limiter

from .conftest import PASSWORD


@pytest.fixture
def mailbox(app):
    from consultations.mail import outbox

    app.config["MESA_MAIL_BACKEND"] = "memory"
    box = outbox()
    box.clear()
    return box


def _link(mail, path):
    match = re.search(r"http://localhost(" + re.escape(path) + r"[^\s]+)", mail.body)
    assert match, mail.body
    return match.group(1)


def _throttle(app, **limits):
    """Turn the (test-disabled) limiter on for this app, with fresh counters."""
    app.config.update(RATELIMIT_ENABLED=True, **limits)
    limiter.init_app(app)
    return app


@pytest.fixture
def throttled(app):
    return _throttle(
        app,
        RATELIMIT_STORAGE_URI="memory://",
        MESA_LIMIT_LOGIN_ACCOUNT="3 per minute",
        MESA_LIMIT_LOGIN_ADDRESS="5 per minute",
        MESA_LIMIT_MAIL_ACCOUNT="2 per minute",
    )


def _login(client, email, password, address="10.0.0.1"):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


# -- passwords --------------------------------------------------------------------

def test_common_password_list_is_shipped_and_used():
    common = common_passwords()
    assert len(common) == 10_000
    assert {"123456", "password", "qwertyuiop", "1234567890"} <= common
    assert password_problem("short") == "Use at least 10 characters."
    assert "most commonly used" in password_problem("QwertyUiop")
    assert "most commonly used" in password_problem("1q2w3e4r5t")
    assert password_problem("me@example.org", email="ME@example.org") is not None
    assert password_problem(PASSWORD) is None


def test_services_refuse_common_passwords(make_user):
    with pytest.raises(services.AccountError, match="most commonly used"):
        services.register_user("x@example.org", "X", "1234567890")
    user = make_user()
    with pytest.raises(services.AccountError, match="most commonly used"):
        services.change_password(user, PASSWORD, "qwertyuiop")


def test_password_change_refuses_common_password_beside_the_field(client, auth, make_user):
    auth.login(make_user())
    response = client.post(
        "/account", data={"current_password": PASSWORD, "new_password": "1234567890", "confirm": "1234567890"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="new_password-error"' in html and "most commonly used" in html


# -- throttling -------------------------------------------------------------------

def test_login_throttled_per_account_whatever_the_address(throttled, make_user):
    user = make_user()
    client = throttled.test_client()
    for n in range(3):
        assert _login(client, user.email, "wrong password!", address=f"10.0.1.{n}").status_code == 422
    # The fourth failure in a minute is refused, even from a new address and with the right password.
    response = _login(client, user.email, PASSWORD, address="10.0.1.99")
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert "Too many attempts" in html and "wait a few minutes" in html.lower()
    assert int(response.headers["Retry-After"]) > 0
    # Other accounts are not affected.
    other = make_user()
    assert _login(throttled.test_client(), other.email, PASSWORD, address="10.0.1.50").status_code == 302


def test_login_throttled_per_address(throttled, make_user):
    client = throttled.test_client()
    for n in range(5):
        assert _login(client, f"guess{n}@example.org", "wrong password!", address="10.0.2.1").status_code == 422
    assert _login(client, "guess9@example.org", "wrong password!", address="10.0.2.1").status_code == 429
    # Another address may still log in.
    user = make_user()
    assert _login(throttled.test_client(), user.email, PASSWORD, address="10.0.2.2").status_code == 302


def test_throttling_treats_unknown_and_known_accounts_alike(throttled, make_user):
    user = make_user()
    client = throttled.test_client()
    known = [_login(client, user.email, "wrong password!", address="10.0.3.1").status_code for _ in range(4)]
    unknown = [_login(client, "nobody@example.org", "wrong password!", address="10.0.3.2").status_code for _ in range(4)]
    assert known == unknown == [422, 422, 422, 429]


def test_successful_logins_are_not_counted(throttled, make_user):
    user = make_user()
    for _ in range(6):
        client = throttled.test_client()
        assert _login(client, user.email, PASSWORD, address="10.0.4.1").status_code == 302


def test_password_reset_requests_throttled_per_account(throttled, make_user, mailbox):
    user = make_user()
    client = throttled.test_client()
    statuses = [
        client.post("/password/forgot", data={"email": user.email}).status_code for _ in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert len(mailbox) == 2


def _redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_throttling_shared_through_redis_across_workers(app, make_user):
    """Counters in Redis survive a new limiter storage (another worker process)."""
    options = {"key_prefix": f"mesa-test-{uuid.uuid4().hex}"}
    settings = dict(
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379",
        RATELIMIT_STORAGE_OPTIONS=options,
        MESA_LIMIT_LOGIN_ACCOUNT="2 per minute",
    )
    _throttle(app, **settings)
    user = make_user()
    client = app.test_client()
    assert [_login(client, user.email, "wrong password!").status_code for _ in range(2)] == [422, 422]
    _throttle(app, **settings)  # a fresh storage object, as in another worker
    assert _login(app.test_client(), user.email, "wrong password!").status_code == 429
    limiter.reset()


def test_limiter_off_in_tests_unless_asked(app):
    assert app.config["RATELIMIT_ENABLED"] is False


def test_production_config_throttles_in_memory_or_redis(monkeypatch, tmp_path):
    from consultations import create_app

    monkeypatch.setenv("MESA_INSTANCE_PATH", str(tmp_path))
    app = create_app()
    assert app.config["RATELIMIT_ENABLED"] is True
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    monkeypatch.setenv("MESA_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379")
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False})
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379"


# -- password reset -----------------------------------------------------------------

def test_reset_answers_the_same_for_known_and_unknown_addresses(app, make_user, mailbox):
    user = make_user()
    known = app.test_client().post("/password/forgot", data={"email": user.email})
    unknown = app.test_client().post("/password/forgot", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert [m.to for m in mailbox] == [user.email]


def test_reset_link_changes_password_once_and_ends_sessions(app, make_user, mailbox):
    user = make_user()
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": PASSWORD})
    client = app.test_client()
    client.post("/password/forgot", data={"email": user.email.upper()})
    [mail] = mailbox
    link = _link(mail, "/password/reset/")
    token = link.rsplit("/", 1)[1]
    stored = db.session.scalar(select(AccountToken))
    assert stored.token_hash != token and token not in stored.token_hash  # only a hash is stored
    assert client.get(link).status_code == 200
    response = client.post(link, data={"new_password": "a fresh long secret", "confirm": "a fresh long secret"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Log out" not in other_device.get("/").get_data(as_text=True)
    assert services.authenticate(user.email, "a fresh long secret") is not None
    assert services.authenticate(user.email, PASSWORD) is None
    # Used once: the link is dead now.
    again = client.post(link, data={"new_password": "another long secret", "confirm": "another long secret"})
    assert again.status_code == 404 and "not valid any more" in again.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent.action)) == "account.password_reset"


def test_reset_link_expires(app, make_user, mailbox, monkeypatch):
    user = make_user()
    client = app.test_client()
    client.post("/password/forgot", data={"email": user.email})
    link = _link(mailbox[0], "/password/reset/")
    from consultations.timeutil import utcnow

    later = utcnow() + timedelta(seconds=app.config["MESA_RESET_SECONDS"] + 5)
    monkeypatch.setattr(services, "utcnow", lambda: later)
    response = client.get(link)
    assert response.status_code == 404
    assert "Ask for a new password link" in response.get_data(as_text=True)


def test_reset_bad_inputs_keep_the_form(app, make_user, mailbox):
    user = make_user()
    client = app.test_client()
    client.post("/password/forgot", data={"email": user.email})
    link = _link(mailbox[0], "/password/reset/")
    cases = [
        ({"new_password": "short", "confirm": "short"}, "at least 10"),
        ({"new_password": "qwertyuiop", "confirm": "qwertyuiop"}, "most commonly used"),
        ({"new_password": "a fresh long secret", "confirm": "different"}, "passwords differ"),
        ({"new_password": "", "confirm": ""}, "This field is required"),
    ]
    for data, message in cases:
        response = client.post(link, data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    assert services.authenticate(user.email, PASSWORD) is not None
    bad = client.post("/password/forgot", data={"email": "not an address"})
    assert bad.status_code == 422 and "Invalid email" in bad.get_data(as_text=True)
    assert 'value="not an address"' in bad.get_data(as_text=True)


def test_reset_confirms_an_unconfirmed_address(app, mailbox):
    user = services.register_user("late@example.org", "Late", PASSWORD, confirmed=False)
    db.session.commit()
    client = app.test_client()
    client.post("/password/forgot", data={"email": user.email})
    link = _link(mailbox[0], "/password/reset/")
    client.post(link, data={"new_password": "a fresh long secret", "confirm": "a fresh long secret"})
    assert db.session.get(User, user.id).email_confirmed_at is not None


# -- sessions ---------------------------------------------------------------------

def test_session_expires_after_its_lifetime(app, make_user, monkeypatch):
    from itsdangerous.timed import TimestampSigner

    assert app.permanent_session_lifetime == timedelta(hours=8)
    user = make_user()
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "Expires=" in response.headers["Set-Cookie"]
    assert "Log out" in client.get("/").get_data(as_text=True)
    real = TimestampSigner.get_timestamp
    # Each request renews the cookie, so the lifetime counts from the last request (idle time).
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 8 * 3600 - 60)
    assert "Log out" in client.get("/").get_data(as_text=True)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 2 * 8 * 3600)
    # Idle for longer than the lifetime: the browser would have dropped the cookie, and the
    # server refuses it anyway.
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_a_session_ends_a_day_after_login_however_active(app, make_user, monkeypatch):
    import time as time_module

    assert app.config["MESA_SESSION_MAX_SECONDS"] == 24 * 3600
    user = make_user()
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    start = time_module.time()
    # Active every seven hours (within the idle lifetime of 8 hours) for a whole day.
    for hours in (7, 14, 21, 23.9):
        monkeypatch.setattr(time_module, "time", lambda hours=hours: start + hours * 3600)
        assert "Log out" in client.get("/").get_data(as_text=True)
    monkeypatch.setattr(time_module, "time", lambda: start + 24 * 3600 + 60)
    assert "Log out" not in client.get("/").get_data(as_text=True)
    # A session cookie without a log-in time (forged, or from before this rule) is refused.
    monkeypatch.undo()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as sess:
        del sess["login_at"]
    assert "Log out" not in client.get("/").get_data(as_text=True)


def test_session_changes_at_login(app, make_user):
    user = make_user()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"].startswith(f"{user.id}:")


# -- mail backends -------------------------------------------------------------------

def test_console_mail_backend_prints(app, capsys):
    from consultations.mail import send_mail

    assert app.config["MESA_MAIL_BACKEND"] == "console"
    send_mail("a@example.org", "Hello", "Body text")
    err = capsys.readouterr().err
    assert "To: a@example.org" in err and "Body text" in err


def test_smtp_mail_backend(app, monkeypatch):
    import smtplib

    from consultations.mail import send_mail

    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append(("starttls",))

        def login(self, user, password):
            sent.append(("login", user))

        def send_message(self, message):
            sent.append(("send", message["To"], message["Subject"]))

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(
        MESA_MAIL_BACKEND="smtp", MESA_SMTP_HOST="mail.example", MESA_SMTP_PORT=587,
        MESA_SMTP_STARTTLS=True, MESA_SMTP_USER="mesa",
    )
    send_mail("a@example.org", "Hello", "Body")
    assert sent == [("connect", "mail.example", 587), ("starttls",), ("login", "mesa"), ("send", "a@example.org", "Hello")]


def test_links_in_mail_use_the_configured_base_url(app, make_user, mailbox):
    app.config["MESA_BASE_URL"] = "https://mesa.example.org/"
    user = make_user()
    app.test_client().post("/password/forgot", data={"email": user.email}, headers={"Host": "evil.example"})
    assert "https://mesa.example.org/password/reset/" in mailbox[0].body
    assert "evil.example" not in mailbox[0].body


def test_tokens_are_removed_with_their_account(make_user):
    user = make_user()
    services.issue_token(user, "reset_password")
    db.session.commit()
    services.delete_account(user, keep_contributions=True)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AccountToken)) == 0


def test_unconfirmed_accounts_are_purged_after_a_week(app, make_user):
    from datetime import timedelta

    from consultations.accounts.models import User
    from consultations.extensions import db
    from consultations.timeutil import utcnow

    confirmed_old = make_user(email="kept@example.org")
    stale = make_user(email="never-confirmed@example.org")
    fresh = make_user(email="just-registered@example.org")
    stale.email_confirmed_at = fresh.email_confirmed_at = None
    confirmed_old.created_at = stale.created_at = utcnow() - timedelta(days=8)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["purge-unconfirmed", "--days", "7"])
    assert result.exit_code == 0 and "Deleted 1 unconfirmed account." in result.output
    db.session.expire_all()
    emails = set(db.session.scalars(db.select(User.email)))
    assert "never-confirmed@example.org" not in emails
    assert {"kept@example.org", "just-registered@example.org"} <= emails
    assert app.test_cli_runner().invoke(args=["purge-unconfirmed", "--days", "0"]).exit_code == 2


def test_refused_attempts_do_not_use_up_the_other_limit(throttled, make_user):
    """Attempts refused with 429 check no password: they do not count as failures for the
    per-address limit, which refuses exactly after its configured number."""
    first, second = make_user(), make_user()
    client = throttled.test_client()
    statuses = [_login(client, first.email, "wrong password!").status_code for _ in range(5)]
    assert statuses == [422, 422, 422, 429, 429]  # 3 per account
    statuses = [_login(client, second.email, "wrong password!").status_code for _ in range(3)]
    assert statuses == [422, 422, 429]  # 5 per address: 3 + 2
