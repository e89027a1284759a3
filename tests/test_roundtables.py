import threading
from datetime import date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from consultations.contributions.models import Contribution
from consultations.extensions import db
from consultations.roundtables import services
from consultations.roundtables.models import ChallengeDiscussion, Registration, Roundtable

from .conftest import PASSWORD

FUTURE = date.today() + timedelta(days=30)


def _form(**overrides):
    data = {
        "title": "Second roundtable",
        "day": FUTURE.isoformat(),
        "start": "10:00",
        "end": "12:00",
        "timezone": "Europe/Madrid",
        "mode": "hybrid",
        "place": "Sala 1, Diputación de Guadalajara",
        "meeting_link": "https://meet.example.org/guadalajara",
        "agenda": "1. **Welcome**\n2. Challenges",
        "capacity": "20",
        "focus": ["16"],
        "facilitators": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_roundtable(app):
    def make(consultation, day=FUTURE, start=time(10), end=time(12), capacity=None, place="Room A", closes=None, **kw):
        roundtable = services.create_roundtable(
            consultation, title=kw.pop("title", "Roundtable"), day=day, start=start, end=end,
            tz=kw.pop("tz", "Europe/Madrid"), mode="in_person", place=place, capacity=capacity,
            registration_closes=closes, **kw,
        )
        db.session.commit()
        return roundtable

    return make


def _login(app, user):
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


# -- 1. roundtables --------------------------------------------------------------

def test_organiser_creates_roundtable_times_stored_in_utc(app, make_user, make_consultation):
    organiser = make_user(role="organiser")
    facilitator = make_user(email="facilitator@example.org")
    consultation = make_consultation(organiser=organiser)
    client = _login(app, organiser)
    response = client.post(f"/consultations/{consultation.id}/roundtables/new",
                           data=_form(facilitators="Facilitator@example.org"))
    assert response.status_code == 302
    roundtable = db.session.scalar(select(Roundtable))
    assert roundtable.title == "Second roundtable"
    local = roundtable.local_start
    assert (local.hour, local.minute, str(local.tzinfo)) == (10, 0, "Europe/Madrid")
    assert roundtable.starts_at == local.astimezone(__import__("zoneinfo").ZoneInfo("UTC")).replace(tzinfo=None)
    assert roundtable.capacity == 20 and roundtable.mode == "hybrid"
    assert [f.email for f in roundtable.facilitators] == [facilitator.email]
    assert roundtable.focus_numbers == [16]
    assert "<strong>Welcome</strong>" in roundtable.agenda_html
    page = client.get(f"/roundtables/{roundtable.id}").get_data(as_text=True)
    assert "10:00–12:00 (Europe/Madrid)" in page


def test_consultation_page_lists_roundtables_upcoming_first(app, client, make_consultation, make_roundtable):
    consultation = make_consultation()
    make_roundtable(consultation, title="Later one", day=FUTURE + timedelta(days=10))
    make_roundtable(consultation, title="Next one", day=FUTURE)
    make_roundtable(consultation, title="Past one", day=date(2021, 6, 4))
    html = client.get(f"/consultations/{consultation.id}").get_data(as_text=True)
    assert html.index("Next one") < html.index("Later one") < html.index("Past one")
    assert html.index("Upcoming") < html.index("Past")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"end": "09:00"}, "The end time must be after the start time."),
        ({"end": "10:00"}, "The end time must be after the start time."),
        ({"title": ""}, "Give the roundtable a title."),
        ({"mode": "online", "meeting_link": ""}, "need a meeting link"),
        ({"meeting_link": "javascript:alert(1)"}, "Give a full web address"),
        ({"capacity": "-1"}, "Number must be between 0 and 100000."),
        ({"capacity": "lots"}, "Not a valid integer value."),
        ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
        ({"registration_closes_on": FUTURE.isoformat(), "registration_closes_at": ""}, "Give both the date and the time"),
        ({"registration_closes_on": (FUTURE + timedelta(days=1)).isoformat(), "registration_closes_at": "09:00"},
         "Registration must close before the roundtable ends."),
        ({"facilitators": "nobody@example.org"}, "No account has the e-mail nobody@example.org"),
        ({"day": "31/02/2026"}, "Give the date (YYYY-MM-DD)."),
    ],
)
def test_roundtable_bad_input(app, make_user, make_consultation, overrides, message):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    client = _login(app, organiser)
    response = client.post(f"/consultations/{consultation.id}/roundtables/new", data=_form(**overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "Sala 1, Diputación de Guadalajara" in html or "place" in overrides
    assert db.session.scalar(select(func.count()).select_from(Roundtable)) == 0


def test_overlapping_roundtables_in_the_same_room_are_warned(app, make_user, make_consultation, make_roundtable):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    make_roundtable(consultation, title="Table on housing", place="Sala 1, Diputación de Guadalajara", start=time(11), end=time(13))
    client = _login(app, organiser)
    response = client.post(f"/consultations/{consultation.id}/roundtables/new", data=_form())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "“Table on housing” uses this room at an overlapping time" in html
    assert 'name="confirm_overlap"' in html
    # Another room, or explicitly confirmed: saved.
    assert client.post(f"/consultations/{consultation.id}/roundtables/new", data=_form(place="Sala 2")).status_code == 302
    assert client.post(f"/consultations/{consultation.id}/roundtables/new", data=_form(confirm_overlap="y")).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Roundtable)) == 3


def test_edit_roundtable_keeps_times(app, make_user, make_consultation, make_roundtable):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    roundtable = make_roundtable(consultation, tz="America/Bogota", start=time(9, 30), end=time(11))
    client = _login(app, organiser)
    form = client.get(f"/roundtables/{roundtable.id}/edit").get_data(as_text=True)
    assert 'value="09:30"' in form and '<option selected value="America/Bogota">' in form
    response = client.post(f"/roundtables/{roundtable.id}/edit", data=_form(title="Renamed", timezone="America/Bogota"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Roundtable, roundtable.id).title == "Renamed"


# -- 2. registration -----------------------------------------------------------------

def test_capacity_waiting_list_and_cancellation(app, make_user, make_org, make_consultation, make_roundtable):
    consultation = make_consultation()
    roundtable = make_roundtable(consultation, capacity=2)
    org = make_org(name="CEPAIM", category="ngo")
    first, second, third = (make_user(organisation=org) for _ in range(3))
    for user in (first, second):
        assert services.register(roundtable, user).status == "confirmed"
    waiting = services.register(roundtable, third)
    assert waiting.status == "waitlisted"
    db.session.commit()
    client = _login(app, make_user(organisation=org))
    response = client.post(f"/roundtables/{roundtable.id}/register", data={"name": "Ana"}, follow_redirects=True)
    assert "the roundtable is full, so this registration is on the waiting list" in response.get_data(as_text=True)
    # The first confirmed person cancels: the first on the waiting list moves up.
    client = _login(app, first)
    registration = db.session.scalar(select(Registration).where(Registration.registered_by_id == first.id))
    response = client.post(f"/registrations/{registration.id}/cancel", follow_redirects=True)
    assert "now has the seat" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Registration, waiting.id).status == "confirmed"
    assert db.session.get(Roundtable, roundtable.id).seats_taken == 2
    statuses = sorted(r.status for r in db.session.scalars(select(Registration)))
    assert statuses == ["cancelled", "confirmed", "confirmed", "waitlisted"]


def test_registration_records_category_and_lists_names_only_by_choice(app, make_user, make_org, make_consultation, make_roundtable):
    consultation = make_consultation()
    roundtable = make_roundtable(consultation)
    user = make_user(organisation=make_org(name="Junta", category="public_administration", governance_level="regional"))
    client = _login(app, user)
    client.post(f"/roundtables/{roundtable.id}/register", data={"name": "María Pérez", "show_name": "y"})
    client.post(f"/roundtables/{roundtable.id}/register", data={"name": "Hidden Person"})
    client.post(f"/roundtables/{roundtable.id}/register", data={"name": ""})
    rows = list(db.session.scalars(select(Registration).order_by(Registration.id)))
    assert [(r.name, r.show_name, r.stakeholder_category, r.governance_level) for r in rows] == [
        ("María Pérez", True, "public_administration", "regional"),
        ("Hidden Person", False, "public_administration", "regional"),
        ("", False, "public_administration", "regional"),
    ]
    public = app.test_client().get(f"/roundtables/{roundtable.id}").get_data(as_text=True)
    assert "María Pérez" in public and "Hidden Person" not in public


def test_twice_the_same_person_is_refused(app, make_user, make_consultation, make_roundtable):
    consultation = make_consultation()
    roundtable = make_roundtable(consultation)
    user = make_user()
    client = _login(app, user)
    client.post(f"/roundtables/{roundtable.id}/register", data={"name": "Ana Gómez"})
    response = client.post(f"/roundtables/{roundtable.id}/register", data={"name": "  ana   gómez "}, follow_redirects=True)
    assert "Ana Gómez is already registered for this roundtable." in response.get_data(as_text=True)
    client.post(f"/roundtables/{roundtable.id}/register", data={})
    response = client.post(f"/roundtables/{roundtable.id}/register", data={}, follow_redirects=True)
    assert "You are already registered" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 2


def test_registration_after_the_deadline_is_refused(app, make_user, make_consultation, make_roundtable):
    consultation = make_consultation()
    closes = datetime.combine(date.today() - timedelta(days=1), time(12))
    roundtable = make_roundtable(consultation, closes=closes)
    client = _login(app, make_user())
    response = client.post(f"/roundtables/{roundtable.id}/register", data={}, follow_redirects=True)
    assert "Registration for this roundtable is closed." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    past = make_roundtable(consultation, day=date(2021, 6, 4))
    with pytest.raises(services.RoundtableError, match="already taken place"):
        services.register(past, make_user())


def test_capacity_cannot_drop_below_seats_taken(make_user, make_consultation, make_roundtable):
    consultation = make_consultation()
    roundtable = make_roundtable(consultation, capacity=5)
    for _ in range(3):
        services.register(roundtable, make_user())
    with pytest.raises(services.RoundtableError, match="3 people already hold a seat"):
        services.update_roundtable(roundtable, title="x", day=FUTURE, start=time(10), end=time(12), capacity=2)


def test_raising_capacity_moves_the_waiting_list_up(make_user, make_consultation, make_roundtable):
    consultation = make_consultation()
    roundtable = make_roundtable(consultation, capacity=1)
    services.register(roundtable, make_user())
    waiting = services.register(roundtable, make_user())
    assert waiting.status == "waitlisted"
    services.update_roundtable(roundtable, title="x", day=FUTURE, start=time(10), end=time(12), capacity=2, place="Room A")
    assert waiting.status == "confirmed"


def test_two_people_take_the_last_seat_at_the_same_moment(app, make_user, make_consultation, make_roundtable):
    consultation = make_consultation()
    roundtable = make_roundtable(consultation, capacity=1)
    users = [make_user() for _ in range(8)]
    clients = [_login(app, user) for user in users]
    barrier = threading.Barrier(len(clients))
    results = []
    url = f"/roundtables/{roundtable.id}/register"

    def go(client):
        barrier.wait()
        response = client.post(url, data={})
        results.append(response.status_code)

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [302] * len(clients)  # nobody gets an error
    db.session.rollback()  # end this thread's read transaction: see what the others committed
    statuses = [r.status for r in db.session.scalars(select(Registration))]
    assert statuses.count("confirmed") == 1
    assert statuses.count("waitlisted") == len(clients) - 1
    assert db.session.get(Roundtable, roundtable.id).seats_taken == 1


# -- iCalendar ----------------------------------------------------------------------

def test_ics_for_registered_people_and_organisers(app, make_user, make_consultation, make_roundtable):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    roundtable = make_roundtable(consultation, title="Mesa de Guadalajara", start=time(17), end=time(19), tz="Europe/Madrid")
    make_roundtable(consultation, title="Mesa dos", day=FUTURE + timedelta(days=7))
    user = make_user()
    client = _login(app, user)
    assert client.get(f"/roundtables/{roundtable.id}/calendar.ics").status_code == 403
    client.post(f"/roundtables/{roundtable.id}/register", data={})
    response = client.get(f"/roundtables/{roundtable.id}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    start = events[0].decoded("dtstart")
    assert (start.date(), start.hour, start.minute) == (FUTURE, 17, 0)
    assert str(start.tzinfo) == "Europe/Madrid"
    assert events[0].decoded("dtend").hour == 19
    assert "Mesa de Guadalajara" in str(events[0]["summary"])
    assert calendar.walk("VTIMEZONE")[0]["tzid"] == "Europe/Madrid"
    assert client.get(f"/consultations/{consultation.id}/roundtables.ics").status_code == 403

    organiser_client = _login(app, organiser)
    response = organiser_client.get(f"/consultations/{consultation.id}/roundtables.ics")
    assert response.status_code == 200
    events = Calendar.from_ical(response.data).walk("VEVENT")
    assert [str(e["summary"]).split(" — ")[0] for e in events] == ["Mesa de Guadalajara", "Mesa dos"]


# -- 3. attendance and minutes ----------------------------------------------------------

def test_attendance_counts_by_category_and_level(app, make_user, make_org, make_consultation, make_roundtable):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    roundtable = make_roundtable(consultation, day=date.today() - timedelta(days=1))
    ngo = make_user(organisation=make_org(category="ngo"))
    admin_user = make_user(organisation=make_org(category="public_administration", governance_level="municipal"))
    # Registered before the meeting (inserted directly: registration is closed after it).
    regs = []
    for user, category, level in ((ngo, "ngo", None), (admin_user, "public_administration", "municipal")):
        reg = Registration(roundtable_id=roundtable.id, registered_by_id=user.id, person_key="(myself)",
                           stakeholder_category=category, governance_level=level, status="confirmed")
        db.session.add(reg)
        regs.append(reg)
    db.session.commit()
    client = _login(app, organiser)
    response = client.post(f"/roundtables/{roundtable.id}/attendance", data={
        "attended": [str(regs[0].id), str(regs[1].id)],
        "walk_ins-0-category": "migrant_association", "walk_ins-0-count": "3",
        "walk_ins-1-category": "public_administration", "walk_ins-1-level": "regional", "walk_ins-1-count": "2",
    })
    assert response.status_code == 302
    result = services.attendance([roundtable.id])
    assert result.total == 7
    assert result.by_category == {"ngo": 1, "public_administration": 3, "migrant_association": 3}
    assert result.by_level == {"municipal": 1, "regional": 2}
    html = client.get(f"/roundtables/{roundtable.id}").get_data(as_text=True)
    assert "7 stakeholders joined." in html


def test_attendance_bad_input(app, make_user, make_consultation, make_roundtable):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    roundtable = make_roundtable(consultation, day=date.today() - timedelta(days=1))
    client = _login(app, organiser)
    response = client.post(f"/roundtables/{roundtable.id}/attendance", data={"walk_ins-0-count": "4"})
    assert response.status_code == 422
    assert "Choose a stakeholder category." in response.get_data(as_text=True)
    response = client.post(f"/roundtables/{roundtable.id}/attendance",
                           data={"walk_ins-0-category": "ngo", "walk_ins-0-level": "regional", "walk_ins-0-count": "2"})
    assert "Only public administrations have a governance level." in response.get_data(as_text=True)
    response = client.post(f"/roundtables/{roundtable.id}/attendance", data={"attended": ["99999"]})
    assert response.status_code == 422
    future = make_roundtable(consultation)
    response = client.post(f"/roundtables/{future.id}/attendance", data={}, follow_redirects=True)
    assert "once the roundtable has started" in response.get_data(as_text=True)


def test_minutes_published(app, make_user, make_consultation, make_roundtable):
    organiser = make_user(role="organiser")
    roundtable = make_roundtable(make_consultation(organiser=organiser), day=date(2021, 6, 4))
    client = _login(app, organiser)
    assert client.post(f"/roundtables/{roundtable.id}/minutes", data={"minutes": ""}).status_code == 422
    response = client.post(f"/roundtables/{roundtable.id}/minutes", data={"minutes": "## Summary\n<script>x</script>Agreed."})
    assert response.status_code == 302
    html = app.test_client().get(f"/roundtables/{roundtable.id}").get_data(as_text=True)
    assert "<h2>Summary</h2>" in html and "<script>x" not in html


# -- 4. capture from the room -------------------------------------------------------------

def _row(i, **values):
    return {f"rows-{i}-{k}": v for k, v in values.items()}


def test_facilitator_captures_rows_a_slip_does_not_lose_the_others(app, make_user, make_consultation, make_roundtable):
    facilitator = make_user()
    consultation = make_consultation()
    roundtable = make_roundtable(consultation, facilitators=[facilitator])
    client = _login(app, facilitator)
    assert client.get(f"/roundtables/{roundtable.id}/capture").status_code == 200
    data = {}
    data.update(_row(0, kind="challenge", title="Lack of social support networks", objectives=["16"], category="migrant_association"))
    data.update(_row(1, kind="proposal", title="Rural cars", body="Mobility between villages", objectives=["15"], category="public_administration", level="municipal"))
    data.update(_row(2, kind="good_practice", title="", objectives=["16"], category="ngo", body="Kept text of the slip"))  # no title
    data.update(_row(3, kind="challenge", title="Stereotypes", objectives=["17"], category="ngo", level="regional"))  # level on an NGO
    data.update(_row(4, kind="", title="", body=""))  # empty
    response = client.post(f"/roundtables/{roundtable.id}/capture", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "2 saved. 2 rows need correcting" in html
    assert "Give a title." in html and "Kept text of the slip" in html
    assert "Only public administrations have a governance level." in html and 'value="Stereotypes"' in html
    saved = list(db.session.scalars(select(Contribution).order_by(Contribution.id)))
    assert [(c.title, c.stakeholder_category, c.governance_level, c.captured, c.roundtable_id) for c in saved] == [
        ("Lack of social support networks", "migrant_association", None, True, roundtable.id),
        ("Rural cars", "public_administration", "municipal", True, roundtable.id),
    ]
    assert saved[0].organisation_name is None
    # The corrected rows go in on the second try.
    data = {}
    data.update(_row(0, kind="good_practice", title="Community gardens", objectives=["16"], category="ngo"))
    data.update(_row(1, kind="challenge", title="Stereotypes", objectives=["17"], category="ngo"))
    assert client.post(f"/roundtables/{roundtable.id}/capture", data=data).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Contribution)) == 4


def test_capture_is_for_facilitators_and_organisers_while_open(app, make_user, make_consultation, make_roundtable):
    consultation = make_consultation()
    roundtable = make_roundtable(consultation)
    client = _login(app, make_user())
    assert client.get(f"/roundtables/{roundtable.id}/capture").status_code == 403
    from consultations.consultations.services import change_state

    organiser = consultation.organisers[0]
    change_state(consultation, "closed")
    db.session.commit()
    client = _login(app, organiser)
    response = client.get(f"/roundtables/{roundtable.id}/capture")
    assert response.status_code == 403
    assert "while the consultation is open" in response.get_data(as_text=True)


def test_captured_contributions_count_like_any_other(app, client, make_user, make_consultation, make_roundtable):
    facilitator = make_user()
    consultation = make_consultation()
    roundtable = make_roundtable(consultation, facilitators=[facilitator])
    services.capture_contribution(roundtable, facilitator, kind="challenge", title="Language barriers",
                                  objectives=[3], category="migrant_association")
    db.session.commit()
    assert "Language barriers" in client.get(f"/consultations/{consultation.id}?objective=3").get_data(as_text=True)
    assert "Language barriers" in client.get("/objectives/3").get_data(as_text=True)
    assert "Language barriers" in client.get(f"/roundtables/{roundtable.id}").get_data(as_text=True)


# -- 5. continuity ----------------------------------------------------------------------------

def test_carry_forward_and_challenge_history(app, make_user, make_consultation, make_roundtable, make_contribution):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    first = make_roundtable(consultation, title="First roundtable", day=date(2021, 3, 1))
    second = make_roundtable(consultation, title="Second roundtable", day=date(2021, 6, 4), place="Online")
    open_one = services.capture_contribution(first, organiser, kind="challenge", title="Mobility difficulties", objectives=[15], category="ngo")
    done = services.capture_contribution(first, organiser, kind="challenge", title="Basic needs", objectives=[15], category="ngo")
    services.capture_contribution(first, organiser, kind="proposal", title="Not a challenge", objectives=[15], category="ngo")
    services.mark_addressed(done, "Covered by the municipal plan")
    db.session.commit()
    assert [c.title for c in services.open_challenges_of(first)] == ["Mobility difficulties"]

    client = _login(app, organiser)
    form = client.get(f"/roundtables/{second.id}/carry-forward").get_data(as_text=True)
    assert "Mobility difficulties" in form and "Basic needs" not in form and "Not a challenge" not in form
    response = client.post(f"/roundtables/{second.id}/carry-forward", data={"challenges": [str(open_one.id)]})
    assert response.status_code == 302
    again = client.post(f"/roundtables/{second.id}/carry-forward", data={"challenges": [str(open_one.id)]}, follow_redirects=True)
    assert "0 challenges carried forward" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ChallengeDiscussion)) == 1
    assert "Mobility difficulties" in client.get(f"/roundtables/{second.id}").get_data(as_text=True)

    proposal = make_contribution(consultation, kind="proposal", title="Rural cars", answers=[open_one.id], objectives=(15,))
    html = client.get(f"/contributions/{open_one.id}").get_data(as_text=True)
    assert "Raised at" in html and "First roundtable" in html
    assert "Discussed at" in html and "Second roundtable" in html
    assert proposal.title in html

    # Bad input: nothing chosen, or a challenge of another consultation.
    assert client.post(f"/roundtables/{second.id}/carry-forward", data={}).status_code == 422
    other = make_contribution(make_consultation(), kind="challenge")
    assert client.post(f"/roundtables/{second.id}/carry-forward", data={"challenges": [str(other.id)]}).status_code == 422


def test_mark_addressed_with_a_note(app, make_user, make_consultation, make_contribution):
    organiser = make_user(role="organiser")
    consultation = make_consultation(organiser=organiser)
    challenge = make_contribution(consultation, kind="challenge", title="Transport")
    proposal = make_contribution(consultation, kind="proposal", title="Cars")
    client = _login(app, organiser)
    assert client.post(f"/challenges/{challenge.id}/addressed", data={"note": ""}).status_code == 422
    assert client.post(f"/challenges/{challenge.id}/addressed", data={"note": "Bus line opened in 2022"}).status_code == 302
    assert "Bus line opened in 2022" in client.get(f"/contributions/{challenge.id}").get_data(as_text=True)
    assert client.get(f"/challenges/{proposal.id}/addressed").status_code == 404
    participant = _login(app, make_user())
    assert participant.post(f"/challenges/{challenge.id}/addressed", data={"note": "x"}).status_code == 403


# -- 6. standing bodies -----------------------------------------------------------------------

def test_local_council_members_composition_and_registration(app, make_user, make_org, make_consultation, make_roundtable):
    organiser = make_user(role="organiser")
    council = make_consultation(organiser=organiser, kind="local_council", title="Consejo Local")
    orgs = [make_org(category=c) for c in ("ngo", "ngo", "migrant_association")]
    observer = make_org(category="academia")
    former = make_org(category="trade_union")
    client = _login(app, organiser)
    for org in orgs:
        assert client.post(f"/consultations/{council.id}/members/new",
                           data={"organisation_id": org.id, "status": "member", "joined_on": "2016-01-01"}).status_code == 302
    client.post(f"/consultations/{council.id}/members/new",
                data={"organisation_id": observer.id, "status": "observer", "joined_on": "2016-01-01"})
    client.post(f"/consultations/{council.id}/members/new",
                data={"organisation_id": former.id, "status": "member", "joined_on": "2016-01-01", "left_on": "2020-01-01"})
    # Bad input: twice, leaving before joining.
    response = client.post(f"/consultations/{council.id}/members/new",
                           data={"organisation_id": orgs[0].id, "status": "member", "joined_on": "2017-01-01"})
    assert response.status_code == 422 and "already a member or observer" in response.get_data(as_text=True)
    response = client.post(f"/consultations/{council.id}/members/new",
                           data={"organisation_id": former.id, "status": "member", "joined_on": "2021-01-01", "left_on": "2020-01-01"})
    assert response.status_code == 422 and "leaving date cannot be before" in response.get_data(as_text=True)

    composition = services.composition(council)
    assert composition["totals"] == {"member": 3, "observer": 1}
    assert composition["by_category"]["ngo"] == {"member": 2, "observer": 0}
    html = app.test_client().get(f"/consultations/{council.id}/members").get_data(as_text=True)
    assert "3 members, 1 observer." in html

    roundtable = make_roundtable(council)
    outsider = _login(app, make_user(organisation=make_org(category="ngo")))
    response = outsider.post(f"/roundtables/{roundtable.id}/register", data={}, follow_redirects=True)
    assert "Only member and observer organisations of this council may register." in response.get_data(as_text=True)
    for org in (orgs[2], observer):
        member_client = _login(app, make_user(organisation=org))
        assert member_client.post(f"/roundtables/{roundtable.id}/register", data={}).status_code == 302
    gone = _login(app, make_user(organisation=former))
    gone.post(f"/roundtables/{roundtable.id}/register", data={})
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 2


def test_members_page_only_for_councils(client, make_consultation):
    assert client.get(f"/consultations/{make_consultation().id}/members").status_code == 404
