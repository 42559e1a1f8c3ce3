"""The simulated audience's people: who they are, read once from data/personas.json. Each
avatar's colour must keep its white initials readable (WCAG 2.2 AA), checked at import."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"

PERSONA_KINDS = (
    "health-board",
    "council",
    "local-news",
    "journalist",
    "public",
    "campaigner",
    "troll",
)
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # a slug: lower-case words and hyphens
_HANDLE = re.compile(r"[A-Za-z0-9_]{1,15}")  # X's own rule for usernames
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")
_AA_CONTRAST = 4.5  # WCAG 2.2 AA for normal-size text: the avatar's initials are white


@dataclass(frozen=True)
class Persona:
    slug: str
    name: str
    handle: str  # without the @
    kind: str  # one of PERSONA_KINDS
    bio: str
    colour: str  # "#RRGGBB" behind white initials

    @property
    def initials(self) -> str:
        words = [w for w in self.name.split() if w[:1].isalnum()]
        return "".join(w[0] for w in words[:2]).upper()


def _contrast_with_white(colour: str) -> float:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def _load_personas(path: Path) -> tuple[Persona, ...]:
    # Coaches may edit this file, so a mistake stops the app with a message naming the entry.
    fields = {"slug", "name", "handle", "kind", "bio", "colour"}
    personas: list[Persona] = []
    for number, entry in enumerate(json.loads(path.read_text(encoding="utf-8")), start=1):
        where = f"{path.name}, persona {number}"
        if not isinstance(entry, dict) or set(entry) != fields:
            raise ValueError(f"{where}: needs exactly these fields: {', '.join(sorted(fields))}.")
        if not all(isinstance(value, str) and value.strip() for value in entry.values()):
            raise ValueError(f"{where}: every field must be a non-empty string.")
        p = Persona(**entry)
        if not SLUG.fullmatch(p.slug):
            raise ValueError(f"{where}: slug {p.slug!r} must be lower-case words and hyphens.")
        if not _HANDLE.fullmatch(p.handle):
            raise ValueError(
                f"{where}: handle {p.handle!r} must be 1 to 15 letters, digits or underscores, "
                "without the @."
            )
        if p.kind not in PERSONA_KINDS:
            raise ValueError(f"{where}: kind {p.kind!r} must be one of {', '.join(PERSONA_KINDS)}.")
        if not _COLOUR.fullmatch(p.colour) or _contrast_with_white(p.colour) < _AA_CONTRAST:
            raise ValueError(
                f"{where}: colour {p.colour!r} must be #RRGGBB and dark enough for white text "
                f"(contrast {_AA_CONTRAST}:1 or more)."
            )
        if any(other.slug == p.slug for other in personas):
            raise ValueError(f"{where}: slug {p.slug!r} is used twice.")
        personas.append(p)
    return tuple(personas)


PERSONAS: tuple[Persona, ...] = _load_personas(_DATA / "personas.json")
PERSONAS_BY_SLUG = {p.slug: p for p in PERSONAS}
PERSONAS_BY_KIND = {kind: tuple(p for p in PERSONAS if p.kind == kind) for kind in PERSONA_KINDS}


def persona(slug: str) -> Persona:
    try:
        return PERSONAS_BY_SLUG[slug]
    except KeyError:
        raise KeyError(f"No persona {slug!r}.") from None
