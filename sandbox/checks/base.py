"""The types every check shares. No Django and no I/O here: the engine runs anywhere, offline."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from types import MappingProxyType
from typing import Literal

from sandbox.tweet_text import Entity, extract_entities

Severity = Literal["block", "warn", "tip"]
SEVERITIES: dict[str, Severity] = {"block": "block", "warn": "warn", "tip": "tip"}
OFF = "off"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    start: int  # Python str indices into the checked text (code points, not UTF-16 units)
    end: int
    message: str

    def as_dict(self) -> dict[str, str | int]:
        return {
            "code": self.code,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
            "message": self.message,
        }


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


@dataclass(frozen=True)
class Hit:
    """What a check function reports; run_checks adds the code and settles the severity."""

    start: int
    end: int
    message: str
    severity: Severity | None = None  # None: the check's default


class Post:
    """The text under check, with the parsing several checks share done once, on demand."""

    def __init__(self, text: str) -> None:
        self.text = text

    @cached_property
    def entities(self) -> list[Entity]:
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
