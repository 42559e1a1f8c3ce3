"""The types every check shares. No Django and no I/O here: the engine runs anywhere, offline."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Literal

from sandbox.tweet_text import Entity, extract_entities

Severity = Literal["block", "warn", "tip"]
_MAYBE_ENTITY = re.compile(r"[@#$\uff20\uff03]|\.\w")
SEVERITIES: dict[str, Severity] = {"block": "block", "warn": "warn", "tip": "tip"}
OFF = "off"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    start: int  # Python str indices into the checked text (code points, not UTF-16 units)
    end: int
    message: str
    # None: start and end point into the post's text. A number: the finding is in that
    # image's description (CheckContext.media[media_index].alt_text), and start and end point
    # into that description. Image numbers for people are media_index + 1.
    media_index: int | None = None

    @property
    def image_number(self) -> int | None:
        """The image as people count them ("image 2"), or None for the post's text."""
        return None if self.media_index is None else self.media_index + 1

    def as_dict(self) -> dict[str, str | int]:
        """The finding as JSON. "media_index" appears only for a finding in an image's
        description, so the shape of a finding in the text is what it always was."""
        out: dict[str, str | int] = {
            "code": self.code,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "message": self.message,
        }
        if self.media_index is not None:
            out["media_index"] = self.media_index
        return out


@dataclass(frozen=True)
class MediaInfo:
    alt_text: str = ""


@dataclass(frozen=True)
class CheckContext:
    """What the engine needs besides the text: the organisation's settings, the post's media."""

    media: tuple[MediaInfo, ...] = ()
    # code -> "block" | "warn" | "tip" | "off"; unknown codes and values are ignored.
    severity_overrides: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    extra_profanity: tuple[str, ...] = ()
    # (label, regex), e.g. ("hospital number", r"\bRX\d{7}\b"); a broken regex is ignored.
    local_identifier_patterns: tuple[tuple[str, str], ...] = ()
    pre_election_periods: tuple[tuple[date, date], ...] = ()
    today: date | None = None
    # What is published with this post in the same thread: the other posts' texts and their
    # images' descriptions. A patient named in one post and their illness in the next is
    # still a patient identified (checks.patients); other checks look at this post only.
    thread: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """What a check function reports; run_checks adds the code and settles the severity."""

    start: int
    end: int
    message: str
    severity: Severity | None = None  # None: the check's default


class Post:
    """The text under check, with the parsing several checks share done once, on demand.

    A post's text and each of its images' descriptions are checked as separate Posts.
    ``neighbours`` are the other texts published with this one (the post's text or its other
    descriptions, and the rest of the thread), for checks that join details across them.
    """

    def __init__(self, text: str, label: str = "in the post") -> None:
        self.text = text
        self.label = label  # where this text is, for messages about another: "in image 2's..."
        self.neighbours: tuple[Post, ...] = ()

    @cached_property
    def entities(self) -> list[Entity]:
        # Every mention, hashtag and cashtag starts with its sign, and every URL has a dot
        # before a word character: most image descriptions and many posts have neither.
        if _MAYBE_ENTITY.search(self.text) is None:
            return []
        return extract_entities(self.text)

    @cached_property
    def hashtags(self) -> list[Entity]:
        return [e for e in self.entities if e.kind == "hashtag"]

    @cached_property
    def urls(self) -> list[Entity]:
        return [e for e in self.entities if e.kind == "url"]

    @cached_property
    def prose(self) -> str:
        """The text with mentions, hashtags, URLs and cashtags blanked out, offsets kept.

        A handle such as @NHSGGC is not shouting and a URL is not a hard word.
        """
        if not self.entities:
            return self.text
        parts: list[str] = []
        last = 0
        for entity in self.entities:
            parts.append(self.text[last : entity.start])
            parts.append(" " * (entity.end - entity.start))
            last = entity.end
        parts.append(self.text[last:])
        return "".join(parts)

    def whole(self) -> tuple[int, int]:
        """The span of a finding about the post as a whole (or its media)."""
        return 0, len(self.text)


CheckFunction = Callable[[Post, CheckContext], Iterable[Hit]]


@dataclass(frozen=True)
class Check:
    code: str
    title: str
    severity: Severity  # the default; CheckContext.severity_overrides can change it
    description: str
    run: CheckFunction

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "title": self.title,
            "severity": self.severity,
            "description": self.description,
        }
