"""A drill's times as the pages show them (to the second)."""

import datetime as dt

from django import template

from coaching.services.drills import stopwatch_words

register = template.Library()


@register.filter
def stopwatch(elapsed: dt.timedelta | None) -> str:
    return stopwatch_words(elapsed)
