"""The fragment cache's keys: a piece showing "5 minutes ago" must move to a new key
whenever that wording changes, or the cache would show a stale time."""

import datetime as dt
import itertools

from django.utils import timezone
from django.utils.timesince import timesince

from coaching import fragments


def ages_and_wordings(step: dt.timedelta, until: dt.timedelta) -> list[tuple[int | None, str]]:
    now = timezone.now()
    moment = now - until
    seen = []
    while moment <= now:
        seen.append((fragments.age(moment, now), timesince(moment, now)))
        moment += step
    return seen


def test_the_age_changes_whenever_the_wording_does():
    for step, until in (
        (dt.timedelta(seconds=7), dt.timedelta(days=2)),
        (dt.timedelta(minutes=13), dt.timedelta(days=70)),
        (dt.timedelta(hours=5), dt.timedelta(days=800)),
    ):
        seen = ages_and_wordings(step, until)
        for (age, wording), (next_age, next_wording) in itertools.pairwise(seen):
            if wording != next_wording:
                assert age != next_age, (wording, next_wording)


def test_the_age_changes_far_less_often_than_every_poll():
    # Minutes for a day: a 10-second poll mostly finds the same key.
    now = timezone.now()
    moment = now - dt.timedelta(hours=3, seconds=5)
    assert fragments.age(moment, now) == fragments.age(moment, now + dt.timedelta(seconds=10))
    # Hours after a day, and days after a month.
    old = now - dt.timedelta(days=3, minutes=1)
    assert fragments.age(old, now) == fragments.age(old, now + dt.timedelta(minutes=30))
    ancient = now - dt.timedelta(days=90, hours=1)
    assert fragments.age(ancient, now) == fragments.age(ancient, now + dt.timedelta(hours=12))
