"""Engagement pledges: promises paid for in likes, reposts, shares, follows or replies.

A pledge is an engagement act tied to a reward or a consequence in the same sentence. The
grammar, in the shapes people write it:

  rate          "£1 for every retweet", "50p per share", "for each reply we'll put a pound in"
  equation      "each repost of this tweet = 25p", "every follow this week means a book",
                "1 RT = £1", "every like on this post is 5p"
  imperative    "Share this and we'll give £3", "RT this and the council will plant a tree",
                "Like and share to win a hamper"
  threshold     "20 reposts and I'll wear my jumper", "reach 300 likes and our chief executive
                does a sponsored swim", "get us to 2,000 followers and...", "if this gets 100
                shares, the team will..."
  each time     "we'll give 50p every time someone shares this"

A reward is money ("£3", "25p", "a quid"), giving ("donate", "plant", "buy"), a prize ("to
win", "prize draw"), or a promise: someone on the organisation's side (I, we, our chief
executive, Dr Shah, the council) who will, or simply does, something. "We'll keep you up to
date" and "our pharmacist will answer" are service, not rewards.

Not pledges: a plain call to share ("Please share so more people know"), thanks ("Thank you
for all the shares"), a count of past engagement ("Our post got 400 shares"), a donation tied
to something else ("10p from every cake sold"), and statistics ("for every 10 people
screened, one cancer is found early").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sandbox.checks.base import CheckContext, Hit, Post

# (?![\w-]) rather than \b, so "like-minded", "follow-up" and "share-holders" are not engagement.
_END = r"(?![\w-])"
_NOUN = (
    r"(?:re-?tweets?|rts?|re-?posts?|shares?|likes?|favs?|favou?rites?|hearts?|boosts?"
    r"|follows?|(?:new\s+)?followers?|repl(?:y|ies)|comments?|quote[- ]?(?:tweets?|posts?)"
    r"|quotes?|views?|tags?)" + _END
)
_VERB = (
    r"(?:re-?tweet|rt|re-?post|share|like|favou?rite|heart|boost|follow|reply|comment"
    r"|quote(?:[- ]?(?:tweet|post))?|tag)" + _END
)
_VERB_S = (
    r"(?:re-?tweets|rts|re-?posts|shares|likes|favou?rites|hearts|boosts|follows|replies"
    r"|comments|quotes|tags|re-?tweeted|re-?posted|shared|liked|followed|replied|commented"
    r"|quoted)" + _END
)
_NUMBER = (
    r"(?:[0-9][0-9,.]*\s?[kK]?|a\s+(?:hundred|thousand|million)|(?:one|two|three|four|five"
    r"|ten|twenty|fifty)(?:\s+(?:hundred|thousand))?)"
)
_MONEY = (
    r"(?:[£$€]\s?[0-9][0-9,.]*(?:\s?[km]\b)?|(?<![\w.])[0-9]+\s?(?:p|pence)\b"
    r"|\b(?:a|one)\s+(?:pound|quid)\b|\bquid\b)"
)
_GIVE = (
    r"\b(?:donat(?:e|es|ed|ing|ion)|give|gives|giving|pledg(?:e|es|ing)|plant(?:s|ing)?"
    r"|buy|buys|fund(?:s|ing)?|pays?\s+for|sponsor(?:s|ing)?|match(?:es|ing)?"
    r"|goes\s+(?:straight\s+)?to|go\s+(?:straight\s+)?to)\b"
)
_WIN = (
    r"\b(?:to\s+win|could\s+win|(?:a\s+)?chance\s+(?:to|of)\s+win\w*|be\s+entered"
    r"|prize\s+draw|enter\s+(?:you|them)|raffle|giveaway)\b"
)
# Someone on the organisation's side who will (or simply does) something.
_SUBJECT = (
    r"(?:\b(?:I|we|he|she|they)\b|\b(?:our|the|my)\s+(?:[\w'-]+\s+){0,4}?"
    r"(?:ceo|chief\s+exec(?:utive)?|boss|team|director|manager|matron|nurse|doctor|council"
    r"|consultant|staff|porters?|head|chair|mayor|\w+)"
    r"|\b(?:Dr|Prof|Professor|Sister|Matron|Nurse|Cllr|Councillor)\.?\s+[A-Z]\w+"
    r"|(?-i:\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?))"
)
_INFORMING = (
    r"(?:keep\s+(?:you|everyone|people)|update|let\s+(?:you|people|everyone)|tell|post"
    r"|share|answer|reply|respond|read|get\s+back|see|know|be\s+(?:posting|sharing|updating"
    r"|in\s+touch|happy)|send\s+you|remind|help|look\s+into|try|need|have\s+to|be\s+able)\b"
)
_PROMISE = (
    rf"{_SUBJECT}\s*(?:'ll|\u2019ll|\s+will|\s+shall|\s+(?:promise|promises|have\s+promised"
    r"|has\s+promised|agreed|has\s+agreed|have\s+agreed|vow|vows|pledge|pledges)\s+to"
    r"|\s+(?:is|are|am)\s+going\s+to|'m\s+going\s+to|\u2019m\s+going\s+to|'re\s+going\s+to"
    rf"|\u2019re\s+going\s+to)\s+(?!{_INFORMING})\w+"
)
# After "and", ",", "then": someone doing something, said in the present ("does a swim").
_DOES = rf"(?:\band\b|,|\bthen\b|\u2013|-)\s*{_SUBJECT}\s+(?:\w+ly\s+)?(?!was|were|had|got)\w+s\b"
_REWARD = re.compile(rf"{_MONEY}|{_GIVE}|{_WIN}|{_PROMISE}", re.IGNORECASE)
_CONSEQUENCE = re.compile(rf"{_MONEY}|{_GIVE}|{_WIN}|{_PROMISE}|{_DOES}|=|\bmeans\b")
_CONSEQUENCE_I = re.compile(rf"{_MONEY}|{_GIVE}|{_WIN}|{_PROMISE}", re.IGNORECASE)
# What an equation's "is" or "means" must lead to: money, giving, or a thing ("a book").
_THING = re.compile(
    rf"\s*(?:{_MONEY}|{_GIVE}|(?:a|an|one|another|two|three|five|ten|[0-9]+)\s+"
    r"(?!lot\b|difference\b|great\b|huge\b|big\b|world\b|way\b|bit\b|step\b|chance\b"
    r"|person\b|people\b|more\b|answer\b)[\w'-]+)",
    re.IGNORECASE,
)

_RATE = re.compile(
    rf"\b(?:for|per)\s+(?:every|each|one)\s+(?:single\s+)?(?:new\s+)?{_NOUN}"
    rf"|(?:{_MONEY}|\b(?:a|an|one)\s+\w+)\s+(?:per|a|an|for\s+each)\s+(?:new\s+)?{_NOUN}",
    re.IGNORECASE,
)
_EQUATION = re.compile(
    rf"\b(?:every|each|per|one|1|a)\s+(?:single\s+)?(?:new\s+)?{_NOUN}"
    r"(?:\s+(?!(?:helps|counts|is\s+read|matters)\b)[\w'#@-]+){0,5}?\s*"
    r"(?:=|->|\u2192|\bequals\b|\bmeans\b|\bis\b|\braises\b|\bgives\b|\bbuys\b|\bplants\b"
    r"|\bfunds\b|\bpays\s+for\b|\bis\s+worth\b|\badds\b|\bputs\b|\bdonates\b|\bearns\b)",
    re.IGNORECASE,
)
_IMPERATIVE = re.compile(
    rf"(?:\W*(?:please|pls|just|simply|go\s+on|quick|so|now|and)\b[\s,!]*)?{_VERB}"
    rf"(?:\s*(?:,|&|\+|/|and|or)\s*{_VERB})*",
    re.IGNORECASE,
)
# After an imperative and its object, where a consequence can start: "Share this and ...".
_CONNECTOR = re.compile(r"(?:,|&|\+|\band\b|\bthen\b|\u2013|\u2014|\s-\s|:)\s*", re.IGNORECASE)
_IMPERATIVE_OBJECT_CHARS = 80
_WIN_RE = re.compile(_WIN, re.IGNORECASE)
# Where an imperative can start: the sentence, or after a colon or dash inside it.
_CLAUSE_START = re.compile(r"^|[:\u2013\u2014]\s*|\s-\s+")
_OPENING = " \t\"'\u201c"
_THRESHOLD = re.compile(
    rf"(?:^\W*|\b(?:if|when|once|whenever|at|reach|reaches|hit|hits|gets?|get\s+(?:us|this"
    rf"|it|the\s+post)\s+to|help\s+us\s+(?:reach|hit|get\s+to)|let'?s\s+(?:get\s+(?:this|us|it)"
    rf"\s+to|reach|hit)|target\s+of)\s+(?:[^\s.!?]+\s+){{0,5}}?)"
    rf"(?:{_NUMBER})\s+(?:more\s+)?(?:new\s+)?{_NOUN}",
    re.IGNORECASE,
)
_EACH_TIME = re.compile(
    rf"\b(?:every\s+time|each\s+time|whenever|for\s+(?:each|every)\s+(?:person|one)\s+who"
    rf"|for\s+everyone\s+who|(?:when|if|once)\s+you)\s+(?:someone|somebody|anyone|anybody|you"
    rf"|people|a\s+person)?\s*(?:{_VERB_S}|{_VERB})",
    re.IGNORECASE,
)
# "Thank you for every retweet" is gratitude, not a promise: thanks earlier in the sentence.
_THANKS = re.compile(r"\b(?:thank|thanks|thankful|grateful|appreciat\w*)\b", re.IGNORECASE)

_MESSAGE = (
    "This promises something in return for likes, reposts, shares or follows. Pledges like "
    "this can go viral and commit your organisation to money or actions it never planned, and "
    "X treats them as engagement bait. Ask people to donate, sign up or share the message "
    "directly instead."
)


def engagement_pledges(post: Post, context: CheckContext) -> Iterator[Hit]:
    text = post.text
    target: tuple[int, int] | None = None  # a threshold the sentence before left open
    for s, e in _sentences(text):
        span = _pledge(text, s, e)
        if span is None and target is not None:
            span = _followed_up(text, target, s, e)
        if span is not None:
            yield Hit(*span, _MESSAGE)
        target = _target(text, s, e) if span is None else None


# The consequence of a threshold, in the next sentence: "Help us reach 2k. When we do, Tesco
# will donate a hamper." / "...300 likes? If we get there, I'll do the swim."
_FOLLOW_ON = re.compile(
    r"\W*(?:and\s+|then\s+)?(?:when|once|if)\s+(?:we|it|this|you|they)\s+(?:do|does|get"
    r"\s+there|hit\s+(?:it|that)|reach\s+(?:it|that)|make\s+it|manage\s+it|get\s+it)\b",
    re.IGNORECASE,
)


# A target the audience is asked to reach, in a sentence about engagement ("Retweet to help us
# reach 2k", "Let's get this to 300 shares"): not a count of the past ("We hit 1,000 likes").
_TARGET = re.compile(
    r"\b(?:help\s+us\s+(?:to\s+)?(?:reach|hit|get\s+to)|get\s+(?:us|this|it)\s+to"
    r"|let'?s\s+(?:get\s+(?:this|us|it)\s+to|reach|hit)|can\s+we\s+(?:reach|hit|get\s+to))"
    rf"\s+(?:[^\s.!?]+\s+){{0,3}}?{_NUMBER}",
    re.IGNORECASE,
)


def _target(text: str, s: int, e: int) -> tuple[int, int] | None:
    sentence = text[s:e]
    if _ENGAGEMENT_WORD.search(sentence.lower()) is None:
        return None
    m = _TARGET.search(sentence)
    return (s + m.start(), s + m.end()) if m is not None else None


def _followed_up(text: str, target: tuple[int, int], s: int, e: int) -> tuple[int, int] | None:
    follow = _FOLLOW_ON.match(text, s, e)
    if follow is None:
        return None
    consequence = _CONSEQUENCE.search(text, follow.end(), e) or _CONSEQUENCE_I.search(
        text, follow.end(), e
    )
    return (target[0], consequence.end()) if consequence is not None else None


_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n")
# A sentence with none of these words pledges nothing.
_ENGAGEMENT_WORD = re.compile(
    r"\b(?:re-?tweet|rts?\b|re-?post|share|like|fav|heart|boost|follow|repl|comment|quote"
    r"|view|tag)"
)
_MONEYISH = re.compile(r"[£$€]|[0-9]\s?p\b|pence|pound|quid")
_NUMBERISH = re.compile(
    r"[0-9]|hundred|thousand|million|\b(?:one|two|three|four|five|ten|twenty|fifty)\b"
)
_STARTS_WITH_A_THING = re.compile(r"\s*(?:[£$€0-9]|an?\s)")


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    """Sentence spans; a full stop inside a number ("£1.50") or a link ends nothing."""
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > start:
            yield start, m.end()
        start = m.end()
    if start < len(text):
        yield start, len(text)


def _pledge(text: str, s: int, e: int) -> tuple[int, int] | None:
    sentence = text[s:e]
    lower = sentence.lower()
    if _ENGAGEMENT_WORD.search(lower) is None:
        return None
    # Each shape is looked for only when the words it needs are there.
    if "every" in lower or "each" in lower or "per" in lower or _MONEYISH.search(lower):
        for m in _RATE.finditer(sentence):
            if not _thanked(sentence, m.start()):
                reward = _REWARD.search(sentence)
                if reward is not None or _STARTS_WITH_A_THING.match(sentence, m.start()):
                    return _span(s, m, reward)
    if any(w in lower for w in ("every", "each", "per", "one", "1", "=", "\u2192", "->", " a ")):
        for m in _EQUATION.finditer(sentence):
            thing = _THING.match(sentence, m.end())
            if thing is not None and not _thanked(sentence, m.start()):
                return _span(s, m, thing)
    imperative = _imperative(sentence)
    if imperative is not None:
        return s + imperative[0], s + imperative[1]
    if _NUMBERISH.search(lower):
        for m in _THRESHOLD.finditer(sentence):
            if _thanked(sentence, m.start()):
                continue
            consequence = _CONSEQUENCE.search(sentence, m.end()) or _CONSEQUENCE_I.search(
                sentence, m.end()
            )
            if consequence is not None:
                return s + m.start(), s + consequence.end()
    if "time" in lower or "who" in lower or "you" in lower:
        for m in _EACH_TIME.finditer(sentence):
            if _thanked(sentence, m.start()):
                continue
            reward = _REWARD.search(sentence)
            if reward is not None:
                return _span(s, m, reward)
    return None


def _imperative(sentence: str) -> tuple[int, int] | None:
    """ "Share this and we'll give £3", "Like and share to win a hamper"."""
    for clause in _CLAUSE_START.finditer(sentence):
        start = clause.end()
        while start < len(sentence) and sentence[start] in _OPENING:
            start += 1
        m = _IMPERATIVE.match(sentence, start)
        if m is None:
            continue
        window = sentence[m.end() : m.end() + _IMPERATIVE_OBJECT_CHARS]
        win = _WIN_RE.search(window)
        if win is not None:
            return m.start(), m.end() + win.end()
        for connector in _CONNECTOR.finditer(window):
            reward = _CONSEQUENCE_I.match(window, connector.end())
            if reward is not None:
                return m.start(), m.end() + reward.end()
    return None


def _span(offset: int, m: re.Match[str], other: re.Match[str] | None) -> tuple[int, int]:
    if other is None:
        return offset + m.start(), offset + m.end()
    return offset + min(m.start(), other.start()), offset + max(m.end(), other.end())


def _thanked(sentence: str, start: int) -> bool:
    return _THANKS.search(sentence, 0, start) is not None
