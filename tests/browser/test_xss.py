"""XSS vectors (after the OWASP XSS Filter Evasion Cheat Sheet) stored in every text
field a person can fill, then every page that shows them opened in real Chromium —
with the Content-Security-Policy stripped, so that escaping and sanitising alone must
hold — and none may execute. The stored text is kept as typed."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from consultations.extensions import db

pytestmark = pytest.mark.browser

# Each vector, if it ran, would set window.__xss or open a dialog.
VECTORS = [
    "<script>window.__xss=1</script>",
    "<SCRIPT SRC=data:text/javascript,window.__xss=1></SCRIPT>",
    "<img src=x onerror=window.__xss=1>",
    "<IMG SRC=\"javascript:window.__xss=1;\">",
    "<IMG SRC=JaVaScRiPt:window.__xss=1>",
    "<IMG SRC=`javascript:window.__xss=1`>",
    "<img src=\"x\" onerror=\"&#119;indow.__xss=1\">",
    "<svg/onload=window.__xss=1>",
    "<svg><script>window.__xss=1</script></svg>",
    "<body onload=window.__xss=1>",
    "<iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>",
    "<details open ontoggle=window.__xss=1>",
    "<a href=\"javascript:window.__xss=1\">x</a>",
    "<a href=\"jav&#x09;ascript:window.__xss=1\">x</a>",
    "\"><script>window.__xss=1</script>",
    "'><img src=x onerror=window.__xss=1>",
    "</textarea><script>window.__xss=1</script>",
    "</title><script>window.__xss=1</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    "<object data=\"data:text/html,<script>parent.__xss=1</script>\"></object>",
    "<input autofocus onfocus=window.__xss=1>",
    "<style>@import 'javascript:window.__xss=1';</style>",
    "[click](javascript:window.__xss=1)",
    "[click](JAVASCRIPT:window.__xss=1)",
    "![x](javascript:window.__xss=1)",
    "[x](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9MTwvc2NyaXB0Pg==)",
    "<http://x.org\" onmouseover=\"window.__xss=1>",
    "{{7*7}}{% raw %}",
]
BLOB = "\n\n".join(VECTORS)


def _seed(make_user, make_org, make_consultation):
    from consultations.contributions.services import open_anonymous_link, submit_anonymous, submit_contribution
    from consultations.moderation.services import flag, hide
    from consultations.roundtables import services as rt

    admin = make_user(role="admin", name=VECTORS[0])
    org = make_org(name=VECTORS[2][:200], category="migrant_association")
    author = make_user(organisation=org, name=VECTORS[7])
    consultation = make_consultation(organiser=admin, title=VECTORS[14][:200], territory=VECTORS[15][:200],
                                     description=BLOB[:20000])
    contributions = []
    for i, vector in enumerate(VECTORS):
        contributions.append(submit_contribution(
            consultation, author, kind=("challenge", "proposal", "good_practice")[i % 3], title=vector[:200],
            body=vector, objectives=[1 + i % 23], name_organisation=True,
            on_behalf=bool(i % 2), on_behalf_note=vector[:300] if i % 2 else "",
        ))
    token = open_anonymous_link(consultation)
    submit_anonymous(consultation, category="other", kind="challenge", title=VECTORS[3], body=BLOB[:20000], objectives=[1])
    flag(contributions[0], VECTORS[8])
    hide(contributions[1], admin, VECTORS[9])
    roundtable = rt.create_roundtable(consultation, title=VECTORS[10][:200], day=date.today() - timedelta(days=1),
                                      start=time(10), end=time(12), place=VECTORS[11][:300], agenda=BLOB[:20000])
    future = rt.create_roundtable(consultation, title=VECTORS[12][:200], day=date.today() + timedelta(days=9),
                                  start=time(10), end=time(12), agenda=BLOB[:20000])
    rt.register(future, author, name=VECTORS[16][:120], show_name=True)
    rt.publish_minutes(roundtable, BLOB[:20000])
    rt.mark_addressed(contributions[0], VECTORS[17])
    db.session.commit()
    return admin, consultation, contributions, roundtable, future, token


def test_no_vector_executes_in_a_real_browser(server_url, new_page, make_user, make_org, make_consultation):
    from tests.browser.test_journey import log_in

    admin, consultation, contributions, roundtable, future, token = _seed(make_user, make_org, make_consultation)
    pages = [
        "/", "/consultations/", f"/consultations/{consultation.id}", f"/consultations/{consultation.id}?q=%3Cscript%3E",
        "/objectives/1", "/organisations/", f"/roundtables/{roundtable.id}", f"/roundtables/{future.id}",
        f"/roundtables/{future.id}/registrations", f"/consultations/{consultation.id}/moderation",
        f"/consultations/{consultation.id}/edit", f"/roundtables/{roundtable.id}/edit", "/admin/users", "/admin/audit/",
        f"/c/{token}", f"/consultations/{consultation.id}/summary",
    ] + [f"/contributions/{c.id}" for c in contributions] + [f"/contributions/{contributions[2].id}/edit"]

    page = new_page()

    def strip_csp(route):
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
        route.fulfill(response=response, headers=headers)

    page.route("**/*", strip_csp)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, server_url, admin.email)
    executed = []
    for path in pages:
        response = page.goto(server_url + path)
        assert response.status < 500, path
        page.mouse.move(5, 5)
        for link in page.locator("main a").all()[:5]:
            link.hover()
        if page.evaluate("() => window.__xss === 1"):
            executed.append(path)
    assert executed == [] and dialogs == []

    # The text is kept as typed.
    from consultations.contributions.models import Contribution

    db.session.rollback()
    assert db.session.get(Contribution, contributions[0].id).body_md == VECTORS[0]
