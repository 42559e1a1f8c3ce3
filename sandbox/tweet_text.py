"""X's (Twitter's) text rules, twitter-text v3: weighted length and entity extraction.

Written from the twitter-text conformance suite and the rules it documents, not from
twitter-text's code. static/js/tweet-text.js is the browser twin of this module; change
both together (tests/browser/test_counter_conformance.py holds the browser to the suite).

Indices come in two kinds, on purpose:
- parse_tweet's ranges count UTF-16 code units, as twitter-text's parseTweet does, so the
  server and the browser counter agree on where a post overflows.
- Entity start/end count code points (Python string indices), as the conformance suite does.
"""

from __future__ import annotations

import json
import math
import string
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Literal

import regex

__all__ = [
    "V2",
    "V3",
    "Config",
    "Entity",
    "MentionOrList",
    "ParsedTweet",
    "WeightRange",
    "extract_cashtags_with_indices",
    "extract_entities",
    "extract_hashtags_with_indices",
    "extract_mentions_or_lists_with_indices",
    "extract_mentions_with_indices",
    "extract_reply_screen_name",
    "extract_urls_with_indices",
    "parse_tweet",
]


@dataclass(frozen=True)
class WeightRange:
    start: int
    end: int
    weight: int


@dataclass(frozen=True)
class Config:
    version: int
    max_weighted_tweet_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    emoji_parsing_enabled: bool
    ranges: tuple[WeightRange, ...]


_LIGHT_RANGES = (
    WeightRange(0, 4351, 100),
    WeightRange(8192, 8205, 100),
    WeightRange(8208, 8223, 100),
    WeightRange(8242, 8247, 100),
)
V2 = Config(2, 280, 100, 200, 23, False, _LIGHT_RANGES)
V3 = Config(3, 280, 100, 200, 23, True, _LIGHT_RANGES)


@dataclass(frozen=True)
class ParsedTweet:
    weighted_length: int
    valid: bool
    permillage: int
    display_range_start: int
    display_range_end: int
    valid_range_start: int
    valid_range_end: int


EntityKind = Literal["mention", "hashtag", "url", "cashtag"]


@dataclass(frozen=True)
class Entity:
    kind: EntityKind
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class MentionOrList:
    screen_name: str
    list_slug: str  # "" for a plain mention, else "/slug"
    start: int
    end: int


# The TLD list lives in the browser's data file so Python and JS cannot drift apart.
_DATA_FILE = Path(__file__).resolve().parent.parent / "static" / "js" / "tweet-text-data.js"
_DATA_ASSIGNMENT = "window.SandpitTweetTextData = "


def _load_tlds() -> tuple[list[str], list[str]]:
    source = _DATA_FILE.read_text(encoding="utf-8")
    payload = source.split(_DATA_ASSIGNMENT, 1)[1].strip().removesuffix(";")
    tlds = json.loads(payload)["tlds"]
    return tlds["generic"], tlds["country"]


_GENERIC_TLDS, _COUNTRY_TLDS = _load_tlds()

_PUNCT = "!'#%&()*+,\\-./:;<=>?@[]^_{|}~$"
_SPACES = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_INVALID = "\ufffe\ufeff\uffff"
_DIRECTIONAL = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_LATIN_ACCENTS = (
    r"\xc0-\xd6\xd8-\xf6\xf8-\xff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259\u025b"
    r"\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_ASCII_ALNUM = string.ascii_letters + string.digits


def _class_body(chars: Iterable[str]) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in sorted(set(chars)))


# --- URLs -------------------------------------------------------------------------------
#
# twitter-text states URL detection as one backtracking regex. Run as a regex, its cost grows
# with the square of the length of a run of characters without spaces or ASCII punctuation,
# which Japanese or Chinese text is full of: 10,000 such characters took 35 s. So the same
# grammar is worked out here in one pass, with the regex's results, match for match (a test
# holds it to the regex):
#   before  = ^ | a character not in [A-Za-z0-9@$#] (consumed, so URLs never share it)
#   url     = protocol? domain (":" port)? ("/" path)? ("?" query)?
#   domain  = (label ".")* label "." tld, where labels are "runs" of domain characters and
#             only subdomain labels may contain "_"; the regex tries the most labels first.

_NOT_DOMAIN = frozenset(_PUNCT + _SPACES + _INVALID + _DIRECTIONAL)
_NOT_BEFORE = frozenset(_ASCII_ALNUM + "@\uff20$#\uff03" + _INVALID)
_RUN = regex.compile(f"[^{_class_body(_NOT_DOMAIN - set('-_'))}]+")
_TLDS = frozenset(tld.lower() for tld in (*_GENERIC_TLDS, *_COUNTRY_TLDS))
# Longest first is the regex's choice too: the data lists any TLD before its own prefixes.
_TLD_LENGTHS = sorted({len(tld) for tld in _TLDS}, reverse=True)
_AFTER_TLD_NOT = frozenset(_ASCII_ALNUM + "@+-")
_PUNYCODE_CHARS = frozenset(_ASCII_ALNUM + "-")

_P = f"[a-z\\u0400-\\u04ff0-9!*';:=+,.$/%#\\[\\]\\-\\u2013_~|&@{_LATIN_ACCENTS}]"
_PARENS = f"\\((?:{_P}+|(?:{_P}*\\({_P}+\\){_P}*))\\)"
_PATH_END = f"(?:[+\\-a-z\\u0400-\\u04ff0-9=_#/{_LATIN_ACCENTS}]|{_PARENS})"
_PATH = f"(?:(?:{_P}*(?:{_PARENS}{_P}*)*{_PATH_END})|(?:@{_P}+/))"
_QUERY = r"\?[a-z0-9!?*'@();:&=+$/%#\[\]\-_.,~|]*[a-z0-9\-_&=#/]"
_URL_TAIL = regex.compile(f"(?::[0-9]+)?(?P<path>/{_PATH}*)?(?:{_QUERY})?", regex.IGNORECASE)
_ASCII_LABELS = regex.compile(f"(?:[\\-a-z0-9{_LATIN_ACCENTS}]+\\.)+", regex.IGNORECASE)
_TCO = regex.compile(f"https?://t\\.co/([a-z0-9]+)(?:{_QUERY})?", regex.IGNORECASE)
_TCO_MAX_SLUG = 40
_MAX_URL_LENGTH = 4096
_MAX_LABEL_LENGTH = 63
_LABEL_SEPARATORS = regex.compile(r"[\u3002\uff0e\uff61]")


def _tld_end(text: str, start: int, stop: int) -> int | None:
    """End of the TLD at text[start:stop], where stop ends the run of label characters (a
    TLD is made of them) or the text."""
    for length in _TLD_LENGTHS:
        end = start + length
        if (
            end <= stop
            and text[start:end].lower() in _TLDS
            and text[end : end + 1] not in _AFTER_TLD_NOT
        ):
            return end
    if text[start : start + 4].lower() == "xn--":
        end = start + 4
        while end < len(text) and text[end] in _PUNYCODE_CHARS:
            end += 1
        if end > start + 4:
            return end
    return None


def _domain_end(text: str, q: int, b: int, rest: int | None, tld: int | None) -> int | None:
    """End of a domain whose first label is text[q:b], given where the domain ends when that
    label is a subdomain (rest) or the name right before the TLD (tld)."""
    if text[q] in _NOT_DOMAIN or text[b - 1] in _NOT_DOMAIN:
        return None
    if rest is not None:
        return rest
    return tld if text.find("_", q, b) < 0 else None


def _domain_groups(text: str) -> list[tuple[int, int, int, int]]:
    """(lo, hi, protocol length, domain end), in text order: a URL may start at any q in
    [lo, hi) where text[q] is a label character and text[q - 1] may come before a URL."""
    runs: list[tuple[int, int]] = [m.span() for m in _RUN.finditer(text)]
    run_at = {start: j for j, (start, _) in enumerate(runs)}
    label_after = [run_at.get(end + 1) if text[end : end + 1] == "." else None for _, end in runs]
    tld: list[int | None] = [None] * len(runs)
    whole: list[int | None] = [None] * len(runs)  # domain end for a domain starting at the run
    for j in reversed(range(len(runs))):
        k = label_after[j]
        if k is not None:
            tld[k] = _tld_end(text, *runs[k])
            a, b = runs[j]
            whole[j] = _domain_end(text, a, b, whole[k], tld[k])

    groups: list[tuple[int, int, int, int]] = []
    for j, (a, b) in enumerate(runs):
        k = label_after[j]
        if k is not None:
            if text[b - 1] in _NOT_DOMAIN:
                continue
            # Starts before the run's last "_" give a label that can only be a subdomain.
            u = text.rfind("_", a, b)
            rest = whole[k]
            if u > a and rest is not None:
                groups.append((a, u, 0, rest))
            end = rest if rest is not None else tld[k]
            if end is not None:
                groups.append((max(a, u + 1), b, 0, end))
        elif text.startswith("://", b):
            # "http" ends its run at the ":", so a protocol can only start here.
            for scheme in ("https", "http"):
                q = b - len(scheme)
                if q >= a and text[q:b].lower() == scheme:
                    d = run_at.get(b + 3)
                    end = whole[d] if d is not None else None
                    if end is not None:
                        groups.append((q, q + 1, len(scheme) + 3, end))
                    break
    return groups


def _first_start(text: str, lo: int, hi: int, pos: int) -> int | None:
    """Where in [lo, hi) the regex scan, resumed at pos, starts a URL."""
    # At the very start the regex first tries text[0] as the character before a URL.
    starts = chain((1, 0), range(2, hi)) if lo == 0 and pos == 0 else range(max(lo, pos + 1), hi)
    for q in starts:
        if q < hi and text[q] not in _NOT_DOMAIN and (q == 0 or text[q - 1] not in _NOT_BEFORE):
            return q
    return None


def _ascii_domains(domain: str) -> list[tuple[int, int]]:
    """Spans of the ASCII-style domains inside a domain, as twitter-text's scan finds them."""
    spans: list[tuple[int, int]] = []
    p = 0
    while p < len(domain):
        labels = _ASCII_LABELS.match(domain, p)
        end = None
        if labels:
            # Like the regex, back off one label at a time until a TLD follows.
            dots = [p + i for i, c in enumerate(labels[0]) if c == "."]
            end = next(
                (
                    e
                    for d in reversed(dots)
                    if (e := _tld_end(domain, d + 1, len(domain))) is not None
                ),
                None,
            )
        if end is None:
            p += 1
        else:
            spans.append((p, end))
            p = end
    return spans


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _label_ok(label: str) -> bool:
    # Punycode never shortens a label, so a long label fails before the (slow) encoding.
    if not 1 <= len(label) <= _MAX_LABEL_LENGTH:
        return False
    parts = _LABEL_SEPARATORS.sub(".", label).split(".")
    encoded = sum(len(p) if p.isascii() else 4 + len(p.encode("punycode")) for p in parts)
    return encoded + len(parts) - 1 <= _MAX_LABEL_LENGTH


def _url_ok(url: str, protocol: str, domain: str) -> bool:
    if not all(_label_ok(label) for label in domain.split(".")):
        return False
    if domain.startswith("xn--") and not _ascii_domains(domain):
        return False
    return _utf16_len(protocol or "https://") + _utf16_len(url) <= _MAX_URL_LENGTH


def _url_matches(text: str) -> Iterator[tuple[int, int, int, int, bool]]:
    """(start, domain start, domain end, end, has path) for each match of the URL regex."""
    pos = 0
    for lo, hi, protocol_length, domain_end in _domain_groups(text):
        start = _first_start(text, lo, hi, pos)
        if start is not None:
            tail = _URL_TAIL.match(text, domain_end)
            assert tail is not None  # every part of the tail is optional
            pos = tail.end()
            yield start, start + protocol_length, domain_end, pos, tail["path"] is not None


def extract_urls_with_indices(text: str) -> list[Entity]:
    if "." not in text:
        return []
    urls: list[Entity] = []
    for start, domain_start, domain_end, end, has_path in _url_matches(text):
        url = text[start:end]
        protocol = text[start:domain_start]
        domain = text[domain_start:domain_end]
        if not _url_ok(url, protocol, domain):
            continue
        if protocol:
            tco = _TCO.match(url)
            if tco:
                if len(tco[1]) > _TCO_MAX_SLUG:
                    continue
                url = tco[0]
                end = start + len(url)
            urls.append(Entity("url", url, start, end))
            continue
        # Without a protocol only the ASCII-style domains inside the match count, so
        # "日本語example.com" links just "example.com".
        if start and text[start - 1] in "-_./":
            continue
        found = [
            Entity("url", domain[a:b], start + a, start + b) for a, b in _ascii_domains(domain)
        ]
        if found and has_path:
            last = found[-1]
            found[-1] = Entity("url", last.value + url[len(domain) :], last.start, end)
        urls.extend(found)
    return urls


# --- Mentions, hashtags, cashtags ---------------------------------------------------------

_MENTION = regex.compile(
    r"(?P<before>^|[^a-zA-Z0-9_!#$%&*@\uff20]|(?:^|[^a-zA-Z0-9_+~.\-])(?:rt|RT|rT|Rt):?)"
    r"[@\uff20](?P<name>[a-zA-Z0-9_]{1,20})(?P<slug>/[a-zA-Z][a-zA-Z0-9_\-]{0,24})?"
)
_MENTION_END = regex.compile(f"[@\\uff20{_LATIN_ACCENTS}]|://")
_REPLY = regex.compile(f"[{_class_body(_SPACES)}]*[@\\uff20](?P<name>[a-zA-Z0-9_]{{1,20}})")

_HASHTAG_ALPHA = r"[\p{L}\p{M}]"
_HASHTAG_ALNUM = (
    r"[\p{L}\p{M}\p{Nd}_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c"
    r"\u30a0\u30fb\u3003\u0f0b\u0f0c\u00b7]"
)
_HASHTAG = regex.compile(
    # A variation selector may end an emoji right before the "#".
    f"(?P<before>^|\\ufe0e|\\ufe0f|(?!{_HASHTAG_ALNUM}|&)[^\\ud800-\\udfff])"
    f"[#\\uff03](?!\\ufe0f|\\u20e3)"
    f"(?P<tag>{_HASHTAG_ALNUM}*{_HASHTAG_ALPHA}{_HASHTAG_ALNUM}*)"
)
_HASHTAG_END = regex.compile(r"[#\uff03]|://")

_CASHTAG = regex.compile(
    f"(?:^|[{_class_body(_SPACES)}])\\$(?P<tag>[a-z]{{1,6}}(?:[._][a-z]{{1,2}})?)"
    f"(?=$|[{_class_body(_SPACES + _PUNCT)}])",
    regex.IGNORECASE,
)


def extract_mentions_or_lists_with_indices(text: str) -> list[MentionOrList]:
    found: list[MentionOrList] = []
    for m in _MENTION.finditer(text):
        if _MENTION_END.match(text, m.end()):
            continue
        slug = m["slug"] or ""
        start = m.end("before")
        found.append(MentionOrList(m["name"], slug, start, m.end()))
    return found


def extract_mentions_with_indices(text: str) -> list[Entity]:
    return [
        Entity("mention", m.screen_name, m.start, m.end)
        for m in extract_mentions_or_lists_with_indices(text)
        if not m.list_slug
    ]


def extract_reply_screen_name(text: str) -> str | None:
    m = _REPLY.match(text)
    if m is None or _MENTION_END.match(text, m.end()):
        return None
    return m["name"]


def _hashtags(text: str) -> list[Entity]:
    tags: list[Entity] = []
    for m in _HASHTAG.finditer(text):
        if _HASHTAG_END.match(text, m.end()):
            continue
        tags.append(Entity("hashtag", m["tag"], m.end("before"), m.end()))
    return tags


def extract_hashtags_with_indices(text: str) -> list[Entity]:
    tags = _hashtags(text)
    if not tags:
        return []
    return [
        e for e in _without_overlaps(tags + extract_urls_with_indices(text)) if e.kind == "hashtag"
    ]


def extract_cashtags_with_indices(text: str) -> list[Entity]:
    if "$" not in text:
        return []
    return [
        Entity("cashtag", m["tag"], m.start("tag") - 1, m.end()) for m in _CASHTAG.finditer(text)
    ]


def _without_overlaps(entities: list[Entity]) -> list[Entity]:
    # Earlier entities win; among equal starts the one listed first wins (sort is stable).
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda e: e.start):
        if not kept or kept[-1].end <= entity.start:
            kept.append(entity)
    return kept


def extract_entities(text: str) -> list[Entity]:
    """All mentions, hashtags, URLs and cashtags, in text order, none overlapping."""
    return _without_overlaps(
        extract_urls_with_indices(text)
        + extract_mentions_with_indices(text)
        + _hashtags(text)
        + extract_cashtags_with_indices(text)
    )


# --- Counting -----------------------------------------------------------------------------

# Emoji are matched by Unicode's emoji grammar (UTS #51) over character properties rather
# than a list of sequences, so emoji newer than this code still count as one. The suite
# also counts unqualified forms such as "1\u20e3" as one emoji, which a list would miss.
_EMOJI_ELEMENT = (
    r"(?:[#*0-9]\ufe0f?\u20e3"
    r"|\p{Regional_Indicator}{2}"
    r"|\p{Emoji_Modifier_Base}\p{Emoji_Modifier}\ufe0f?"
    r"|\p{Extended_Pictographic}(?:\ufe0f|[\U000e0020-\U000e007e]+\U000e007f)?)"
)
_EMOJI = regex.compile(f"{_EMOJI_ELEMENT}(?:\\u200d{_EMOJI_ELEMENT})*")


def _char_weight(code_point: int, config: Config) -> int:
    for r in config.ranges:
        if r.start <= code_point <= r.end:
            return r.weight
    return config.default_weight


def parse_tweet(text: str, config: Config = V3) -> ParsedTweet:
    """Weighted length and validity of a post, as X counts it (twitter-text parseTweet)."""
    normalized = unicodedata.normalize("NFC", text)
    url_ends = {u.start: u.start + len(u.value) for u in extract_urls_with_indices(normalized)}
    # A lone pictograph keeps its own weight, so a text-style © stays light; only
    # sequences collapse to one emoji.
    emoji_ends = (
        {m.start(): m.end() for m in _EMOJI.finditer(normalized) if m.end() - m.start() > 1}
        if config.emoji_parsing_enabled
        else {}
    )
    limit = config.max_weighted_tweet_length * config.scale
    weighted = 0
    valid = True
    valid_end = 0  # UTF-16 index of the last unit that still fits
    units = 0
    i = 0
    while i < len(normalized):
        if i in url_ends:
            end = url_ends[i]
            weighted += config.transformed_url_length * config.scale
            units += _utf16_len(normalized[i:end])
        elif i in emoji_ends:
            end = emoji_ends[i]
            weighted += config.default_weight
            units += _utf16_len(normalized[i:end])
        else:
            end = i + 1
            code_point = ord(normalized[i])
            weighted += _char_weight(code_point, config)
            units += 2 if code_point > 0xFFFF else 1
        if valid:
            valid = normalized[end - 1] not in _INVALID
        if valid and weighted <= limit:
            valid_end = units - 1
        i = end

    weighted_length = weighted // config.scale
    text_units = _utf16_len(text)
    return ParsedTweet(
        weighted_length=weighted_length,
        valid=valid and 0 < weighted_length <= config.max_weighted_tweet_length,
        # Float arithmetic on purpose: it is what the browser computes.
        permillage=math.floor(weighted_length / config.max_weighted_tweet_length * 1000),
        display_range_start=0,
        display_range_end=max(text_units - 1, 0),
        valid_range_start=0,
        valid_range_end=valid_end + text_units - _utf16_len(normalized),
    )
