"""Authorization matrix: every route of the app, for every kind of visitor.

The list of routes comes from the app's URL map, so a new route without an entry
here fails ``test_every_route_has_an_entry``.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from consultations import create_app

from .conftest import PASSWORD

ROLES = ("anonymous", "participant", "author", "other_organiser", "organiser", "reviewer", "admin")

LOGIN = 302  # anonymous visitors are sent to the login page


def _all(code):
    return {role: code for role in ROLES}


def _logged_in(code, anonymous=LOGIN):
    return {**_all(code), "anonymous": anonymous}


def _managers(ok, others=403, anonymous=LOGIN):
    return {**_all(others), "anonymous": anonymous, "organiser": ok, "admin": ok}


def _keepers(ok, others=403, anonymous=LOGIN):
    """Saved national summaries: reviewers and admins."""
    return {**_all(others), "anonymous": anonymous, "reviewer": ok, "admin": ok}


# (endpoint, method) -> (url builder, form data or None, expected status per role)
MATRIX = {
    ("main.home", "GET"): (lambda w: "/", None, _all(200)),
    ("main.about", "GET"): (lambda w: "/about", None, _all(200)),
    ("main.healthz", "GET"): (lambda w: "/healthz", None, _all(200)),
    # A summary chart is reached by an unguessable key (an HMAC of its published inputs)
    # that only the page showing it gives out: an unknown key is a 404 for everyone.
    ("summaries.chart", "GET"): (lambda w: "/charts/" + "0" * 64 + ".png", None, _all(404)),
    # The language switcher: an empty form changes nothing and goes back (with a message).
    ("main.set_language", "POST"): (lambda w: "/language", {}, _all(302)),
    ("static", "GET"): (lambda w: "/static/style.css", None, _all(200)),
    ("accounts.register", "GET"): (lambda w: "/register", None, _logged_in(302, anonymous=200)),
    ("accounts.register", "POST"): (lambda w: "/register", {}, _logged_in(302, anonymous=422)),
    ("accounts.login", "GET"): (lambda w: "/login", None, _logged_in(302, anonymous=200)),
    ("accounts.login", "POST"): (lambda w: "/login", {}, _logged_in(302, anonymous=422)),
    ("accounts.logout", "POST"): (lambda w: "/logout", {}, _logged_in(302)),
    ("accounts.account", "GET"): (lambda w: "/account", None, _logged_in(200)),
    ("accounts.account", "POST"): (lambda w: "/account", {}, _logged_in(422)),
    ("accounts.confirm_email", "GET"): (lambda w: "/register/confirm/not-a-token", None, _all(404)),
    ("accounts.forgot_password", "GET"): (lambda w: "/password/forgot", None, _all(200)),
    ("accounts.forgot_password", "POST"): (lambda w: "/password/forgot", {}, _all(422)),
    ("accounts.reset_password", "GET"): (lambda w: "/password/reset/not-a-token", None, _all(404)),
    ("accounts.reset_password", "POST"): (lambda w: "/password/reset/not-a-token", {}, _all(404)),
    ("accounts.export_data", "POST"): (lambda w: "/account/data", {}, _logged_in(200)),
    ("accounts.delete_account", "GET"): (lambda w: "/account/delete", None, _logged_in(200)),
    ("accounts.delete_account", "POST"): (lambda w: "/account/delete", {}, _logged_in(422)),
    ("audit.index", "GET"): (lambda w: "/admin/audit/", None, {**_logged_in(403), "admin": 200}),
    ("main.privacy", "GET"): (lambda w: "/privacy", None, _all(200)),
    ("accounts.users", "GET"): (lambda w: "/admin/users", None, {**_logged_in(403), "admin": 200}),
    ("accounts.edit_user", "GET"): (lambda w: f"/admin/users/{w.participant.id}", None, {**_logged_in(403), "admin": 200}),
    ("accounts.edit_user", "POST"): (
        lambda w: f"/admin/users/{w.participant.id}",
        {"role": "participant", "organisation_id": "0"},
        {**_logged_in(403), "admin": 302},
    ),
    ("organisations.index", "GET"): (lambda w: "/organisations/", None, _all(200)),
    ("organisations.show", "GET"): (lambda w: f"/organisations/{w.org.id}", None, _all(200)),
    ("consultations.index", "GET"): (lambda w: "/consultations/", None, _all(200)),
    ("consultations.create", "GET"): (
        lambda w: "/consultations/new",
        None,
        {**_logged_in(403), "other_organiser": 200, "organiser": 200, "admin": 200},
    ),
    ("consultations.create", "POST"): (
        lambda w: "/consultations/new",
        {},
        {**_logged_in(403), "other_organiser": 422, "organiser": 422, "admin": 422},
    ),
    # A draft is secret: 404 for everyone but its organisers and admins.
    ("consultations.show", "GET"): (lambda w: f"/consultations/{w.draft.id}", None, _managers(200, others=404, anonymous=404)),
    ("consultations.edit", "GET"): (lambda w: f"/consultations/{w.draft.id}/edit", None, _managers(200, others=404)),
    ("consultations.edit", "POST"): (lambda w: f"/consultations/{w.draft.id}/edit", {}, _managers(422, others=404)),
    ("consultations.transition", "POST"): (lambda w: f"/consultations/{w.draft.id}/state/open", {}, _managers(302, others=404)),
    ("consultations.organisers", "GET"): (lambda w: f"/consultations/{w.open.id}/organisers", None, _managers(200)),
    ("consultations.organisers", "POST"): (lambda w: f"/consultations/{w.open.id}/organisers", {}, _managers(422)),
    ("consultations.remove_organiser", "POST"): (
        lambda w: f"/consultations/{w.open.id}/organisers/{w.co_organiser.id}/remove",
        {},
        _managers(302),
    ),
    ("contributions.create", "GET"): (lambda w: f"/consultations/{w.open.id}/contribute", None, _logged_in(200)),
    ("contributions.create", "POST"): (lambda w: f"/consultations/{w.open.id}/contribute", {}, _logged_in(422)),
    ("contributions.show", "GET"): (lambda w: f"/contributions/{w.contribution.id}", None, _all(200)),
    # The challenge picker's search: the challenges of a consultation its visitor may see; a
    # draft's are secret (404, as the draft: tests/test_scale_pages.py checks the open one too).
    ("contributions.challenges", "GET"): (
        lambda w: f"/consultations/{w.draft.id}/challenges?q=a", None, _managers(200, others=404, anonymous=404)
    ),
    ("contributions.edit", "GET"): (lambda w: f"/contributions/{w.contribution.id}/edit", None, {**_logged_in(403), "author": 200}),
    ("contributions.edit", "POST"): (lambda w: f"/contributions/{w.contribution.id}/edit", {}, {**_logged_in(403), "author": 422}),
    ("contributions.withdraw", "POST"): (lambda w: f"/contributions/{w.contribution.id}/withdraw", {}, {**_logged_in(403), "author": 302}),
    ("objectives.index", "GET"): (lambda w: "/objectives/", None, _all(200)),
    ("objectives.show", "GET"): (lambda w: "/objectives/1", None, _all(200)),
    # Summaries. The live summary of a draft is secret (404); reviewers read live summaries
    # of consultations that are not drafts; no version is published in this world.
    ("summaries.show", "GET"): (
        lambda w: f"/consultations/{w.draft.id}/summary",
        None,
        _managers(200, others=404, anonymous=404),
    ),
    ("summaries.download", "GET"): (
        lambda w: f"/consultations/{w.open.id}/summary/download.json",
        None,
        {**_managers(200), "reviewer": 200},
    ),
    ("summaries.settings", "GET"): (lambda w: f"/consultations/{w.open.id}/summary/settings", None, _managers(200)),
    ("summaries.settings", "POST"): (lambda w: f"/consultations/{w.open.id}/summary/settings", {}, _managers(422)),
    ("summaries.section", "GET"): (lambda w: f"/consultations/{w.open.id}/summary/sections/2a", None, _managers(200)),
    ("summaries.section", "POST"): (lambda w: f"/consultations/{w.open.id}/summary/sections/2a", {}, _managers(422)),
    ("summaries.pin", "POST"): (lambda w: f"/consultations/{w.open.id}/summary/sections/2a/pins", {}, _managers(400)),
    ("summaries.publish", "POST"): (lambda w: f"/consultations/{w.open.id}/summary/publish", {}, _managers(422)),
    ("summaries.versions", "GET"): (
        lambda w: f"/consultations/{w.open.id}/summary/versions",
        None,
        {**_all(404), "organiser": 200, "admin": 200, "reviewer": 200},
    ),
    ("summaries.version", "GET"): (lambda w: f"/consultations/{w.open.id}/summary/versions/1", None, _all(404)),
    ("summaries.version_download", "GET"): (
        lambda w: f"/consultations/{w.open.id}/summary/versions/1/download.pdf",
        None,
        _all(404),
    ),
    ("summaries.national", "GET"): (
        lambda w: "/summaries/national",
        None,
        {**_logged_in(200), "participant": 403, "author": 403},
    ),
    ("summaries.national_download", "GET"): (
        lambda w: f"/summaries/national/download.csv?c={w.open.id}",
        None,
        {**_managers(200), "reviewer": 200},
    ),
    # Saved national summaries: reviewers and admins only (a reviewer made w.national).
    ("summaries.national_summaries", "GET"): (lambda w: "/summaries/national/saved", None, _keepers(200)),
    ("summaries.national_new", "GET"): (lambda w: f"/summaries/national/new?c={w.open.id}", None, _keepers(200)),
    ("summaries.national_new", "POST"): (lambda w: "/summaries/national/new", {}, _keepers(422)),
    ("summaries.national_summary", "GET"): (lambda w: f"/summaries/national/{w.national.id}", None, _keepers(200)),
    ("summaries.national_edit", "GET"): (lambda w: f"/summaries/national/{w.national.id}/edit", None, _keepers(200)),
    ("summaries.national_edit", "POST"): (lambda w: f"/summaries/national/{w.national.id}/edit", {}, _keepers(422)),
    ("summaries.national_section", "GET"): (lambda w: f"/summaries/national/{w.national.id}/sections/3", None, _keepers(200)),
    ("summaries.national_section", "POST"): (lambda w: f"/summaries/national/{w.national.id}/sections/3", {}, _keepers(422)),
    ("summaries.national_pin", "POST"): (lambda w: f"/summaries/national/{w.national.id}/sections/3/pins", {}, _keepers(400)),
    ("summaries.national_publish", "POST"): (lambda w: f"/summaries/national/{w.national.id}/publish", {}, _keepers(422)),
    ("summaries.national_summary_download", "GET"): (
        lambda w: f"/summaries/national/{w.national.id}/download.json", None, _keepers(200),
    ),
    ("summaries.national_version_download", "GET"): (
        lambda w: f"/summaries/national/{w.national.id}/versions/1/download.json", None, _keepers(404),
    ),
    # Roundtables. The calendar entry comes before "register": the matrix runs in order,
    # and after registering, everyone may download the calendar.
    ("roundtables.create", "GET"): (lambda w: f"/consultations/{w.open.id}/roundtables/new", None, _managers(200)),
    ("roundtables.create", "POST"): (lambda w: f"/consultations/{w.open.id}/roundtables/new", {}, _managers(422)),
    ("roundtables.edit", "GET"): (lambda w: f"/roundtables/{w.roundtable.id}/edit", None, _managers(200)),
    ("roundtables.edit", "POST"): (lambda w: f"/roundtables/{w.roundtable.id}/edit", {}, _managers(422)),
    ("roundtables.show", "GET"): (lambda w: f"/roundtables/{w.roundtable.id}", None, _all(200)),
    ("roundtables.roundtable_ics", "GET"): (
        lambda w: f"/roundtables/{w.roundtable.id}/calendar.ics", None, {**_managers(200), "author": 200}
    ),
    ("roundtables.register", "POST"): (lambda w: f"/roundtables/{w.roundtable.id}/register", {}, _logged_in(302)),
    ("roundtables.cancel", "POST"): (
        lambda w: f"/registrations/{w.registration.id}/cancel", {}, {**_managers(302), "author": 302}
    ),
    ("roundtables.registrations", "GET"): (lambda w: f"/roundtables/{w.roundtable.id}/registrations", None, _managers(200)),
    ("roundtables.consultation_ics", "GET"): (lambda w: f"/consultations/{w.open.id}/roundtables.ics", None, _managers(200)),
    ("roundtables.attendance", "GET"): (lambda w: f"/roundtables/{w.past_roundtable.id}/attendance", None, _managers(200)),
    ("roundtables.attendance", "POST"): (lambda w: f"/roundtables/{w.past_roundtable.id}/attendance", {}, _managers(302)),
    ("roundtables.minutes", "GET"): (lambda w: f"/roundtables/{w.roundtable.id}/minutes", None, _managers(200)),
    ("roundtables.minutes", "POST"): (lambda w: f"/roundtables/{w.roundtable.id}/minutes", {}, _managers(422)),
    ("roundtables.capture", "GET"): (lambda w: f"/roundtables/{w.roundtable.id}/capture", None, _managers(200)),
    ("roundtables.capture", "POST"): (lambda w: f"/roundtables/{w.roundtable.id}/capture", {}, _managers(302)),
    ("roundtables.carry_forward", "GET"): (lambda w: f"/roundtables/{w.roundtable.id}/carry-forward", None, _managers(200)),
    ("roundtables.carry_forward", "POST"): (lambda w: f"/roundtables/{w.roundtable.id}/carry-forward", {}, _managers(422)),
    ("roundtables.addressed", "GET"): (lambda w: f"/challenges/{w.contribution.id}/addressed", None, _managers(200)),
    ("roundtables.addressed", "POST"): (lambda w: f"/challenges/{w.contribution.id}/addressed", {}, _managers(422)),
    ("roundtables.members", "GET"): (lambda w: f"/consultations/{w.council.id}/members", None, _all(200)),
    ("roundtables.add_member", "GET"): (lambda w: f"/consultations/{w.council.id}/members/new", None, _managers(200)),
    ("roundtables.add_member", "POST"): (lambda w: f"/consultations/{w.council.id}/members/new", {}, _managers(422)),
    ("roundtables.edit_member", "GET"): (lambda w: f"/members/{w.member.id}/edit", None, _managers(200)),
    ("roundtables.edit_member", "POST"): (lambda w: f"/members/{w.member.id}/edit", {}, _managers(422)),
    # Contributing without an account, moderation. The link entry rotates the token: keep it last.
    ("contributions.anonymous", "GET"): (lambda w: f"/c/{w.token}", None, _all(200)),
    ("contributions.anonymous", "POST"): (lambda w: f"/c/{w.token}", {}, _all(422)),
    ("contributions.anonymous_edit", "GET"): (lambda w: f"/contributions/{w.anonymous.id}/code", None, _all(200)),
    ("contributions.anonymous_edit", "POST"): (lambda w: f"/contributions/{w.anonymous.id}/code", {}, _all(422)),
    ("moderation.flag", "GET"): (lambda w: f"/contributions/{w.contribution.id}/flag", None, _all(200)),
    ("moderation.flag", "POST"): (lambda w: f"/contributions/{w.contribution.id}/flag", {}, _all(422)),
    ("moderation.queue", "GET"): (lambda w: f"/consultations/{w.open.id}/moderation", None, _managers(200)),
    ("moderation.hide", "POST"): (lambda w: f"/contributions/{w.contribution.id}/hide", {}, _managers(303)),
    ("moderation.restore", "POST"): (lambda w: f"/contributions/{w.contribution.id}/restore", {}, _managers(302)),
    ("moderation.approve", "POST"): (lambda w: f"/contributions/{w.contribution.id}/approve", {}, _managers(302)),
    ("moderation.dismiss", "POST"): (lambda w: f"/contributions/{w.contribution.id}/dismiss-reports", {}, _managers(302)),
    ("moderation.premoderation", "POST"): (lambda w: f"/consultations/{w.open.id}/premoderation/off", {}, _managers(302)),
    ("moderation.anonymous_link", "POST"): (
        lambda w: f"/consultations/{w.open.id}/anonymous-link/open", {}, _managers(302)
    ),
    # Background jobs: a person's downloads are theirs alone (404 for everybody else).
    ("jobs.index", "GET"): (lambda w: "/downloads", None, _logged_in(200)),
    ("jobs.show", "GET"): (lambda w: f"/downloads/{w.done_job}", None, {**_all(404), "organiser": 200}),
    ("jobs.status", "GET"): (lambda w: f"/downloads/{w.done_job}/status.json", None, {**_all(404), "organiser": 200}),
    ("jobs.file", "GET"): (lambda w: f"/downloads/{w.done_job}/file", None, {**_all(404), "organiser": 200}),
    ("jobs.retry", "POST"): (lambda w: f"/downloads/{w.failed_job}/retry", {}, {**_all(404), "organiser": 303}),
    ("jobs.notify_me", "POST"): (lambda w: f"/downloads/{w.done_job}/notify", {}, {**_all(404), "organiser": 303}),
}


def _routes():
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    routes = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((rule.endpoint, method))
    return routes


def test_every_route_has_an_entry():
    routes = _routes()
    assert routes - MATRIX.keys() == set(), "add these routes to the authorization matrix"
    assert MATRIX.keys() - routes == set(), "these entries name routes that no longer exist"


@pytest.fixture
def world(make_user, make_org, make_consultation, make_contribution):
    org = make_org(name="Casa de la Cultura", category="migrant_association")
    organiser = make_user(role="organiser")
    co_organiser = make_user(role="organiser")
    users = {
        "participant": make_user(organisation=make_org(name="Other NGO")),
        "author": make_user(organisation=org),
        "other_organiser": make_user(role="organiser"),
        "organiser": organiser,
        "reviewer": make_user(role="reviewer"),
        "admin": make_user(role="admin"),
    }
    draft = make_consultation(organiser=organiser, state="draft")
    open_ = make_consultation(organiser=organiser, state="open")
    from consultations.consultations.services import add_organiser
    from consultations.extensions import db

    add_organiser(open_, co_organiser.email)
    db.session.commit()
    contribution = make_contribution(open_, author=users["author"])

    from datetime import date, time, timedelta

    from consultations.roundtables import services as roundtables

    def meeting(consultation, day):
        return roundtables.create_roundtable(
            consultation, title="Roundtable", day=day, start=time(10), end=time(12), place="Room 1"
        )

    roundtable = meeting(open_, date.today() + timedelta(days=20))
    past_roundtable = meeting(open_, date(2021, 6, 4))
    registration = roundtables.register(roundtable, users["author"], name="A colleague")
    council = make_consultation(organiser=organiser, state="open", kind="local_council")
    member = roundtables.add_member(council, org, joined_on=date(2016, 1, 1))
    from consultations.contributions import services as contributions

    token = contributions.open_anonymous_link(open_)
    anonymous, _code = contributions.submit_anonymous(
        open_, category="other", kind="challenge", title="Said without an account", objectives=[1]
    )
    from consultations.summaries import services as summaries

    national = summaries.create_national(users["reviewer"], title="National review 2026", consultation_ids=[open_.id])
    db.session.commit()
    done_job, failed_job = _jobs(organiser, open_)
    return SimpleNamespace(
        done_job=done_job, failed_job=failed_job,
        national=national,
        users=users, org=org, organiser=organiser, co_organiser=co_organiser, participant=users["participant"],
        draft=draft, open=open_, contribution=contribution, roundtable=roundtable,
        past_roundtable=past_roundtable, registration=registration, council=council, member=member,
        token=token, anonymous=anonymous,
    )


def _jobs(owner, consultation):
    """A Word file the organiser asked for (done), and one that failed."""
    from consultations.extensions import db
    from consultations.jobs import services as jobs
    from consultations.timeutil import utcnow

    params = {"source": "summary", "consultation_id": consultation.id, "fmt": "docx", "locale": "en"}
    done, failed = jobs.create("document", params, owner=owner), jobs.create("document", params, owner=owner)
    done.file_path, done.file_size, done.file_sha256 = jobs.store_file(done.id, b"PK not really Word", "docx")
    done.status, done.finished_at, done.mimetype = "done", utcnow(), "application/octet-stream"
    failed.status, failed.finished_at, failed.error = "failed", utcnow(), "on purpose"
    db.session.commit()
    return done.id, failed.id


@pytest.mark.parametrize("role", ROLES)
def test_matrix(app, world, role):
    failures = []
    for (endpoint, method), (url_for_world, data, expected) in MATRIX.items():
        client = app.test_client()
        if role != "anonymous":
            client.post("/login", data={"email": world.users[role].email, "password": PASSWORD})
        url = url_for_world(world)
        response = client.get(url) if method == "GET" else client.post(url, data=data)
        response.close()
        if response.status_code != expected[role]:
            failures.append(f"{method} {url} ({endpoint}): {response.status_code}, expected {expected[role]}")
        if response.status_code == 500:
            failures.append(f"{method} {url}: server error")
    assert failures == []
