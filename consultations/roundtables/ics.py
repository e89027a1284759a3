"""iCalendar files for roundtables (RFC 5545, with the roundtable's own time zone)."""
from __future__ import annotations

from datetime import timezone

from icalendar import Calendar, Event

from ..timeutil import utcnow
from .models import MODES, Roundtable


def _calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//Mesa//Consultations on migration policy//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def _event(roundtable: Roundtable, url: str) -> Event:
    event = Event()
    event.add("uid", f"roundtable-{roundtable.id}@mesa")
    event.add("dtstamp", utcnow().replace(tzinfo=timezone.utc))
    event.add("dtstart", roundtable.local_start)
    event.add("dtend", roundtable.local_end)
    event.add("summary", f"{roundtable.title} — {roundtable.consultation.title}")
    location = roundtable.place or ""
    if roundtable.meeting_link:
        location = f"{location} ({roundtable.meeting_link})" if location else roundtable.meeting_link
    if location:
        event.add("location", location)
    description = [f"{MODES[roundtable.mode]}.", url]
    if roundtable.agenda_md:
        description += ["", roundtable.agenda_md]
    event.add("description", "\n".join(description))
    event.add("url", url)
    return event


def roundtable_calendar(roundtable: Roundtable, url: str) -> bytes:
    cal = _calendar(roundtable.title)
    cal.add_component(_event(roundtable, url))
    cal.add_missing_timezones()
    return cal.to_ical()


def consultation_calendar(title: str, roundtables_with_urls) -> bytes:
    cal = _calendar(title)
    for roundtable, url in roundtables_with_urls:
        cal.add_component(_event(roundtable, url))
    cal.add_missing_timezones()
    return cal.to_ical()
