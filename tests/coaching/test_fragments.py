"""The fragment cache's keys: a piece showing "5 minutes ago" must move to a new key
whenever that wording changes, or the cache would show a stale time."""

import datetime as dt
import itertools

from django.utils import timezone
from django.utils.timesince import timesince

from coaching import fragments


def ages_and_wordings(
    moment: dt.datetime, step: dt.timedelta, until: dt.timedelta
) -> list[tuple[object, str]]:
    """(age, wording) as a page sees one post (its moment is in its key): now moving on."""
    return [
        (fragments.age(moment, now), timesince(moment, now))
        for now in (moment + n * step for n in range(int(until / step) + 1))
    ]


def test_the_age_changes_whenever_the_wording_does():
    # Posts from different times of day and month ends, to the microsecond.
    moments = [
        dt.datetime(2026, 1, 31, 23, 59, 58, 999_999, tzinfo=dt.UTC),
        dt.datetime(2026, 2, 28, 0, 0, 1, 5, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 15, 12, 30, 0, 123_456, tzinfo=dt.UTC),
    ]
    for moment in moments:
        for step, until in (
            (dt.timedelta(seconds=7), dt.timedelta(days=2)),
            (dt.timedelta(minutes=13), dt.timedelta(days=70)),
            (dt.timedelta(minutes=37), dt.timedelta(days=400)),
        ):
            seen = ages_and_wordings(moment, step, until)
            for (age, wording), (next_age, next_wording) in itertools.pairwise(seen):
                if wording != next_wording:
                    assert age != next_age, (moment, wording, next_wording)


def test_the_age_changes_far_less_often_than_every_poll():
    # Minutes for a day: a 10-second poll mostly finds the same key.
    now = timezone.now()
    moment = now - dt.timedelta(hours=3, seconds=5)
    assert fragments.age(moment, now) == fragments.age(moment, now + dt.timedelta(seconds=10))
    # Hours after a day (within one date).
    now = now.replace(hour=10, minute=5)
    old = now - dt.timedelta(days=3, minutes=1)
    assert fragments.age(old, now) == fragments.age(old, now + dt.timedelta(minutes=30))
