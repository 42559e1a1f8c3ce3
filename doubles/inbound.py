"""What members of the public say to an NHS or council account, for the doubles to send
as mentions (``XDouble.generate_mentions``, ``python -m doubles --generate-mentions``), so a
development inbox has something living in it.

Made up, but the kinds of thing the inbox must handle: questions, complaints, thanks, and
now and then a post with a patient's details in it (an NHS number, a named patient with a
condition), which the risk checks must flag so no one quotes it back. The NHS numbers pass
the modulus 11 check but belong to the 999 range set aside for testing, never issued.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Voice:
    username: str
    name: str


VOICES = (
    Voice("sam_in_leeds", "Sam Okafor"),
    Voice("margaret_w1950", "Margaret Wilson"),
    Voice("kirkgate_mum", "Priya"),
    Voice("dave_on_the_bus", "Dave Hughes"),
    Voice("fionacares", "Fiona (carer)"),
    Voice("localnewsdesk", "Local News Desk"),
)

# {account} is the organisation's handle, without the @.
SAYINGS = (
    "@{account} what time does the walk-in clinic on Albion Street open on Saturdays?",
    "@{account} Been on hold for 40 minutes trying to get a GP appointment. This is not good "
    "enough.",
    "@{account} Huge thanks to the nurses on ward 12 who looked after my dad last week. Kind, "
    "patient and brilliant.",
    "@{account} my mum Margaret Wilson was admitted with sepsis on Tuesday and nobody will tell "
    "us anything, her NHS number is 999 000 0018",
    "@{account} Is the flu jab clinic still running at the library this week?",
    "@{account} The car park at St James's is full again and the machine only takes coins.",
    "@{account} Can I get my repeat prescription sent to a different pharmacy?",
    "@{account} thank you for the clear advice on the heat, shared it with my neighbours",
    "@{account} My son Jack Peters has type 1 diabetes and his insulin prescription keeps "
    "being refused at the pharmacy, what do we do?",
    "@{account} Are the bins being collected on the bank holiday?",
    "@{account} Why was my operation cancelled for the second time with one day's notice?",
    "@{account} Where can I give blood near the city centre?",
)


def sayings(account: str) -> Iterator[tuple[Voice, str]]:
    """Who says what to ``account``, round and round, in a fixed order (repeatable runs)."""
    voices = itertools.cycle(VOICES)
    for saying in itertools.cycle(SAYINGS):
        yield next(voices), saying.format(account=account)
