"""The simulated audience: who reacts to a practice post, how, and how fast.

    from sandbox.audience import counts_at, explain, plan
    p = plan("£1 for every retweet!", seed=42)
    counts_at(p, 60 * 60)["reposts"]   # 14261, nearly the real case's 14,268
    explain("£1 for every retweet!")   # [("baseline", "..."), ("pledge", "...")]

What happens is decided by RULES, the table below, and nothing else. Each rule has an id, a
description a coach can show a trainee, a trigger (mostly the risk checks' findings, so the
audience reacts to exactly what the coach's checks see), the reach it gives the post and the
replies and quotes it brings. Every rule that fires adds its replies and quotes. The counts
(likes, reposts, quotes, views) follow the loudest rule for each count, on that rule's timing,
rather than adding up: a post is as loud as its loudest feature, which is how the real case
went (one pledge, one sentence, 14,268 retweets), and it keeps that figure a ceiling.

Plans are seeded: the same text and seed always give the same plan. The app stores the plan
with the post (AudiencePlan.as_dict), so changing a rule here never rewrites a trainee's history.

Who reacts comes from sandbox.personas. Nothing here touches Django or the disk.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from sandbox.checks import Finding, run_checks
from sandbox.checks.base import Post
from sandbox.personas import PERSONAS_BY_KIND

__all__ = [
    "MAX_REACTIONS",
    "METRICS",
    "PLACEHOLDERS",
    "RULES",
    "AudiencePlan",
    "Curve",
    "PlannedReaction",
    "Reach",
    "Rule",
    "Say",
    "Signals",
    "counts_at",
    "explain",
    "plan",
]


# --- Curves and plans ------------------------------------------------------------------------

METRICS = ("likes", "reposts", "quotes", "views")
ReactionKind = Literal["reply", "quote"]
_REACTION_KINDS: tuple[ReactionKind, ...] = ("reply", "quote")
# Reactions that appear as rows on the timeline; the counts come from the curves, not rows.
MAX_REACTIONS = 40
_FIRST_REACTION_SECONDS = 30
_LAST_REACTION_SECONDS = 30 * 60
_PLAN_VERSION = 1


def _sigmoid(z: float) -> float:
    # Two forms so that exp() never overflows, whatever the curve's numbers.
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


@dataclass(frozen=True)
class Curve:
    """A logistic rise from 0 at the post time towards total, fastest at midpoint_seconds."""

    total: int
    midpoint_seconds: float
    steepness: float  # per second; larger is a sharper rise

    def __post_init__(self) -> None:
        if isinstance(self.total, bool) or not isinstance(self.total, int) or self.total < 0:
            raise ValueError(f"A curve's total must be a whole number, 0 or more: {self.total!r}")
        if not (math.isfinite(self.midpoint_seconds) and self.midpoint_seconds >= 0):
            raise ValueError(f"A curve's midpoint must be 0 or more: {self.midpoint_seconds!r}")
        if not (math.isfinite(self.steepness) and self.steepness > 0):
            raise ValueError(f"A curve's steepness must be above 0: {self.steepness!r}")

    def value_at(self, seconds: float) -> int:
        if not seconds > 0:  # also NaN
            return 0
        # Shift and rescale the logistic so it starts at exactly 0 rather than at its tail.
        start = _sigmoid(-self.steepness * self.midpoint_seconds)
        now = _sigmoid(self.steepness * (seconds - self.midpoint_seconds))
        # Rounding down keeps the value monotonic and never past the total.
        return min(self.total, math.floor(self.total * (now - start) / (1 - start)))

    def next_rise_after(self, seconds: int) -> int | None:
        """The first whole second after ``seconds`` at which value_at() is higher (None:
        it never will be). The logistic worked backwards gives a first guess;
        floating point can move the answer a little (the last step, to the total, comes
        only by rounding), so the guess is checked and, if need be, bisected."""
        value = self.value_at(seconds)
        # By here the logistic is 1.0 to the last bit: the value moves no more (rounding
        # can leave it one short of the total).
        far = math.ceil(self.midpoint_seconds + 40 / self.steepness) + 1
        if value >= self.total or self.value_at(far) <= value:
            return None
        start = _sigmoid(-self.steepness * self.midpoint_seconds)
        needed = start + (value + 1) * (1 - start) / self.total
        guess = far
        if needed < 1:
            z = math.log(needed / (1 - needed))
            guess = min(far, math.ceil(self.midpoint_seconds + z / self.steepness))
        low, high = seconds, far  # value_at(low) == value < value_at(high)
        if seconds < guess - 1 and self.value_at(guess - 1) == value:
            low = guess - 1
        if low < guess < high and self.value_at(guess) > value:
            high = guess
        while high - low > 1:
            middle = (low + high) // 2
            if self.value_at(middle) > value:
                high = middle
            else:
                low = middle
        return high

    def as_dict(self) -> dict[str, int | float]:
        return {
            "total": self.total,
            "midpoint_seconds": self.midpoint_seconds,
            "steepness": self.steepness,
        }


@dataclass(frozen=True)
class PlannedReaction:
    at_seconds: int  # after the post
    persona: str  # a persona slug
    kind: ReactionKind
    text: str
    rule: str  # the id of the rule that brought it

    def __post_init__(self) -> None:
        if self.kind not in _REACTION_KINDS:
            raise ValueError(f"A reaction's kind must be reply or quote: {self.kind!r}")
        if isinstance(self.at_seconds, bool) or not isinstance(self.at_seconds, int):
            raise ValueError(f"A reaction's time must be whole seconds: {self.at_seconds!r}")

    def as_dict(self) -> dict[str, str | int]:
        return {
            "at_seconds": self.at_seconds,
            "persona": self.persona,
            "kind": self.kind,
            "text": self.text,
            "rule": self.rule,
        }


@dataclass(frozen=True)
class AudiencePlan:
    rules: tuple[str, ...]  # the ids that fired, in table order
    reactions: tuple[PlannedReaction, ...]  # by time
    curves: Mapping[str, Curve]  # one per METRICS name

    def __post_init__(self) -> None:
        if set(self.curves) != set(METRICS):
            raise ValueError(f"A plan needs exactly these curves: {', '.join(METRICS)}.")
        # Frozen means frozen: nobody can change a stored plan's curves through the mapping.
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "reactions", tuple(self.reactions))
        object.__setattr__(self, "curves", MappingProxyType({m: self.curves[m] for m in METRICS}))

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": _PLAN_VERSION,
            "rules": list(self.rules),
            "reactions": [r.as_dict() for r in self.reactions],
            "curves": {name: curve.as_dict() for name, curve in self.curves.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AudiencePlan:
        if not isinstance(data, Mapping) or data.get("version") != _PLAN_VERSION:
            raise ValueError(f"Not a version {_PLAN_VERSION} audience plan.")
        try:
            return cls(
                rules=tuple(str(rule) for rule in data["rules"]),
                reactions=tuple(PlannedReaction(**r) for r in data["reactions"]),
                curves={name: Curve(**c) for name, c in data["curves"].items()},
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"Not an audience plan: {exc}") from exc


def counts_at(plan: AudiencePlan, seconds: float) -> dict[str, int]:
    """What the post's counters show `seconds` after it went up."""
    counts = {name: curve.value_at(seconds) for name, curve in plan.curves.items()}
    arrived = [r for r in plan.reactions if r.at_seconds <= seconds]
    # A quote on the timeline is counted even while the curve is still catching up with it.
    counts["quotes"] = max(counts["quotes"], sum(r.kind == "quote" for r in arrived))
    counts["replies"] = sum(r.kind == "reply" for r in arrived)
    return counts


NO_AUDIENCE = MappingProxyType({"replies": 0, "reposts": 0, "likes": 0, "views": 0, "quotes": 0})


def next_change_after(plan: AudiencePlan, seconds: int) -> int | None:
    """The first whole second after ``seconds`` at which counts_at() may differ (None: the
    post's counters have settled)."""
    moments = [curve.next_rise_after(seconds) for curve in plan.curves.values()]
    moments += [r.at_seconds for r in plan.reactions if r.at_seconds > seconds]
    return min((m for m in moments if m is not None), default=None)


def counts_change_at(
    plan: Mapping[str, Any] | None, appeared: dt.datetime, now: dt.datetime
) -> dt.datetime | None:
    """When a practice post's counters will next move on from what counts_now() shows."""
    if not plan:
        return None
    seconds = max(0, int((now - appeared).total_seconds()))
    later = next_change_after(AudiencePlan.from_dict(plan), seconds)
    return None if later is None else appeared + dt.timedelta(seconds=later)


def counts_now(
    plan: Mapping[str, Any] | None, appeared: dt.datetime, now: dt.datetime
) -> dict[str, int]:
    """A practice post's counters as they stand at ``now``, from its stored plan (none: a
    post nobody is simulated to see)."""
    if not plan:
        return dict(NO_AUDIENCE)
    seconds = max(0, int((now - appeared).total_seconds()))
    return counts_at(AudiencePlan.from_dict(plan), seconds)


# --- What a post contains --------------------------------------------------------------------


@dataclass(frozen=True)
class Signals:
    """What the rules' triggers look at: the checks' finding codes and a few plain features."""

    codes: frozenset[str]  # Finding.code of every risk-check finding
    hashtags: tuple[str, ...]  # with the #
    links: int
    question: bool  # a question mark outside links, mentions and hashtags


def _signals(text: str, findings: Sequence[Finding]) -> Signals:
    post = Post(text)
    return Signals(
        codes=frozenset(f.code for f in findings),
        hashtags=tuple("#" + h.value for h in post.hashtags),
        links=len(post.urls),
        question="?" in post.prose,
    )


# --- The rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Where a rule takes the post's counts, and when."""

    likes: int
    reposts: int
    quotes: int
    views: int
    peak_minute: float  # when the counts rise fastest
    rise_minutes: float  # how long they take to go from a tenth to nine tenths of the way

    def curve(self, metric: str) -> Curve:
        total = getattr(self, metric)
        # A logistic takes ln(81)/k to climb from 10% to 90%.
        return Curve(total, self.peak_minute * 60, math.log(81) / (self.rise_minutes * 60))


@dataclass(frozen=True)
class Say:
    """A reply or quote a rule may bring, from one persona of the kind `who`."""

    who: str  # a persona kind; the seed picks which persona of that kind
    kind: ReactionKind
    text: str  # may use the placeholders in PLACEHOLDERS, e.g. {hashtag}


def reply(who: str, text: str) -> Say:
    return Say(who, "reply", text)


def quote(who: str, text: str) -> Say:
    return Say(who, "quote", text)


@dataclass(frozen=True)
class Rule:
    id: str
    description: str  # for the trainee: what in the post, and what the audience does about it
    trigger: Callable[[Signals], bool]
    reach: Reach
    picks: int  # how many of `says` appear, chosen by the seed
    says: tuple[Say, ...]


def found(*codes: str) -> Callable[[Signals], bool]:
    """A trigger: the risk checks found any of these codes in the post."""
    return lambda s: not s.codes.isdisjoint(codes)


# Reading the table: `reach` is the counts the rule drives the post towards; `picks` of the
# `says` appear as replies and quotes, each from a persona of the kind named, between half a
# minute and half an hour after posting, mostly around the rule's peak minute.
RULES: tuple[Rule, ...] = (
    Rule(
        id="baseline",
        description=(
            "Every post reaches some of your followers. A post with nothing in it to react "
            "to gets a few hundred views, a handful of likes and maybe one reply."
        ),
        trigger=lambda s: True,
        reach=Reach(likes=9, reposts=1, quotes=0, views=240, peak_minute=8, rise_minutes=12),
        picks=1,
        says=(
            reply("public", "Thanks for sharing 👍"),
            reply("public", "Good to know, thanks."),
            reply("public", "Useful, cheers."),
            reply("public", "Thanks, passed this on to my mum."),
        ),
    ),
    Rule(
        id="pledge",
        description=(
            "Promises money or an action for every like, repost or share. Pledges spread far "
            "beyond your followers and commit your organisation to what it promised: one NHS "
            "trust's '£1 for every retweet' reached 14,268 retweets. Here reposts climb towards "
            "that number within the hour, and the press and the campaigners notice."
        ),
        trigger=found("engagement-pledge"),
        reach=Reach(
            likes=9_500,
            reposts=14_268,
            quotes=640,
            views=1_350_000,
            peak_minute=25,
            rise_minutes=20,
        ),
        picks=12,
        says=(
            reply("public", "Done! That's another £1 for the hospital 🙌"),
            reply("public", "Retweeted. Hope your finance team is sitting down."),
            reply("public", "Everyone keep going, let's see how far they'll really go 😂"),
            quote("public", "Retweet this, it's literally free money for the NHS"),
            reply(
                "public",
                "Lovely idea, but has anyone worked out what this costs if it takes off?",
            ),
            reply("public", "Shared on the family WhatsApp. My nan's retweeting it now."),
            reply("public", "Does a quote count too? Asking for 3,000 friends."),
            quote("public", "Is this real? Screenshotting in case it gets deleted."),
            reply(
                "journalist",
                "Hi, I'm writing about this pledge for tomorrow's paper. What's the budget if "
                "it passes 10,000 retweets, and who signed it off? DMs open.",
            ),
            quote(
                "local-news",
                "This pledge is going viral. We've asked how much it could cost, and who pays.",
            ),
            reply("troll", "Public money for retweets. You couldn't make it up. Sack someone."),
            quote("troll", "So THIS is where our taxes go. Retweet farming."),
            reply(
                "campaigner",
                "Funny how there's money for a social media stunt but not for a 24-hour A&E.",
            ),
            quote(
                "campaigner",
                "If there's cash for retweets there's cash for staff. Keep sharing, and let's "
                "hold them to every penny.",
            ),
        ),
    ),
    Rule(
        id="confidentiality",
        description=(
            "Gives a patient's details: an NHS or CHI number, a date of birth, or a named "
            "person beside a medical condition. People complain about patient privacy, and "
            "someone takes a screenshot before it can be deleted."
        ),
        trigger=lambda s: found("patient-identifier", "date-of-birth", "patient-details")(s),
        reach=Reach(likes=20, reposts=35, quotes=18, views=6_500, peak_minute=12, rise_minutes=15),
        picks=4,
        says=(
            reply(
                "public",
                "Should you really be posting a patient's details? I doubt they agreed to this.",
            ),
            reply(
                "public",
                "That's someone's private medical information on a public account. Please "
                "take it down.",
            ),
            reply(
                "campaigner",
                "Patient confidentiality applies online too. Has this been reported to your "
                "data protection officer?",
            ),
            reply(
                "journalist",
                "Did the patient consent to their details being shared? I'd like a comment "
                "from your information governance team.",
            ),
            quote(
                "public",
                "Imagine finding your own medical details on a public account. That's a "
                "serious breach of patient privacy.",
            ),
            quote(
                "troll", "Patient confidentiality? Never heard of it. Screenshotted, {journalist}."
            ),
        ),
    ),
    Rule(
        id="personal-details",
        description=(
            "Gives an email address or a full postcode, which may be one person's or point to "
            "their home. People ask whose they are, and not everyone asks kindly."
        ),
        trigger=found("email-address", "postcode"),
        reach=Reach(likes=10, reposts=3, quotes=1, views=900, peak_minute=10, rise_minutes=12),
        picks=2,
        says=(
            reply(
                "public",
                "Whose details are those? If they're one person's, take them down. Anyone can "
                "see this.",
            ),
            reply("troll", "Lovely. Now everyone knows where to find them."),
        ),
    ),
    Rule(
        id="phone-number",
        description=(
            "Gives a phone number. If it is someone's own, it will ring at all hours and invite "
            "scam calls: people ask whether it is a personal number."
        ),
        trigger=found("phone-number"),
        reach=Reach(likes=12, reposts=3, quotes=1, views=900, peak_minute=10, rise_minutes=12),
        picks=2,
        says=(
            reply(
                "public",
                "Is this your personal number? You might want to delete it, people will ring "
                "at all hours.",
            ),
            reply("troll", "Number saved 📞 Let's see if they pick up at 2am."),
        ),
    ),
    Rule(
        id="profanity",
        description=(
            "Swears. An official account swearing is a story: the local paper and its "
            "reporter screenshot it and ask for a comment, and it travels further than "
            "anything else you posted this week."
        ),
        trigger=found("profanity"),
        reach=Reach(
            likes=140, reposts=220, quotes=85, views=48_000, peak_minute=15, rise_minutes=20
        ),
        picks=4,
        says=(
            quote(
                "journalist",
                "Screenshot taken. Is this really the official account? I've asked the press "
                "office for a comment before we run it.",
            ),
            quote(
                "local-news",
                "An official public-sector account posted this earlier. We've asked for a "
                "comment. (Screenshot in case it disappears.)",
            ),
            reply("public", "Not the language I expect from a public service, to be honest."),
            quote("troll", "Professional as ever 😂 {news} are you seeing this?"),
        ),
    ),
    Rule(
        id="shouting",
        description=(
            "Writes in capitals. It reads as shouting, screen readers may spell it out letter "
            "by letter, and it brings out the troll."
        ),
        trigger=found("all-caps"),
        reach=Reach(likes=15, reposts=6, quotes=4, views=1_600, peak_minute=8, rise_minutes=10),
        picks=3,
        says=(
            reply(
                "troll",
                "WHY ARE WE SHOUTING. Lost the caps lock key along with the budget?",
            ),
            quote("troll", "Official account having a meltdown in ALL CAPS 😂"),
            reply(
                "public",
                "My screen reader spells out words in capitals letter by letter. Sentence "
                "case, please!",
            ),
        ),
    ),
    Rule(
        id="pre-election",
        description=(
            "Mentions politics during a pre-election period, when public bodies must not be "
            "seen to take sides. Campaigners and the press ask whether you are."
        ),
        trigger=found("pre-election-period"),
        reach=Reach(likes=60, reposts=80, quotes=25, views=12_000, peak_minute=15, rise_minutes=20),
        picks=3,
        says=(
            reply(
                "campaigner",
                "Isn't this a bit political for a public body in the middle of an election?",
            ),
            reply(
                "journalist",
                "Is this within the pre-election guidance? I've asked your press office for a "
                "comment.",
            ),
            quote("troll", "Taxpayer-funded campaigning. Reported to the returning officer."),
        ),
    ),
    Rule(
        id="question",
        description=(
            "Asks a question. People answer questions: a few replies arrive within minutes, "
            "and they need reading and, sometimes, an answer back."
        ),
        trigger=lambda s: s.question,
        reach=Reach(likes=18, reposts=4, quotes=1, views=1_100, peak_minute=6, rise_minutes=8),
        picks=3,
        says=(
            reply("public", "Honestly? Better than I expected. The staff were lovely."),
            reply("public", "For us it's the opening hours. Evenings would help loads."),
            reply("public", "Depends on the day. Mornings are a nightmare."),
            reply("public", "Yes! More of this, please."),
            reply("public", "Not sure, but I'd ask at reception. They're always helpful."),
            reply("campaigner", "Good question. Will you be sharing what people tell you?"),
        ),
    ),
    Rule(
        id="hashtag-campaign",
        description=(
            "Uses a hashtag. People following that campaign find the post and repost it, so it "
            "reaches well past your own followers."
        ),
        trigger=lambda s: bool(s.hashtags),
        reach=Reach(likes=45, reposts=60, quotes=3, views=3_800, peak_minute=20, rise_minutes=25),
        picks=3,
        says=(
            quote("public", "Proud to support {hashtag} 💙"),
            quote("campaigner", "Sharing {hashtag}. Every bit of awareness helps."),
            reply("public", "Shared! {hashtag}"),
            quote("local-news", "Good to see local services backing {hashtag} this week."),
            reply("public", "Didn't know about {hashtag}, just reposted."),
        ),
    ),
    Rule(
        id="link",
        description=(
            "Includes a link. Some people click through, so the post gets more views, and "
            "someone will tell you if the page doesn't work on a phone."
        ),
        trigger=lambda s: s.links > 0,
        reach=Reach(likes=11, reposts=3, quotes=0, views=700, peak_minute=10, rise_minutes=15),
        picks=1,
        says=(
            reply("public", "Link works, thanks."),
            reply("public", "Page takes ages to load on my phone 🙄"),
        ),
    ),
)

# The only {names} a template may use; anything else would be a mistake in the table.
PLACEHOLDERS = frozenset({"hashtag", "news", "journalist"})


def _check_rules() -> None:
    ids = [rule.id for rule in RULES]
    if len(set(ids)) != len(ids):
        raise ValueError("RULES: every rule needs its own id.")
    for rule in RULES:
        if not 0 <= rule.picks <= len(rule.says):
            raise ValueError(f"Rule {rule.id}: picks must be between 0 and {len(rule.says)}.")
        for say in rule.says:
            if not PERSONAS_BY_KIND.get(say.who):
                raise ValueError(f"Rule {rule.id}: there is no {say.who!r} persona to say it.")
            for _, name, spec, conversion in string.Formatter().parse(say.text):
                if name is not None and (name not in PLACEHOLDERS or spec or conversion):
                    raise ValueError(
                        f"Rule {rule.id}: {{{name}}} is not a placeholder; use one of "
                        f"{', '.join(sorted(PLACEHOLDERS))}."
                    )


_check_rules()


def _fired(text: str, findings: Sequence[Finding] | None) -> tuple[Signals, list[Rule]]:
    if findings is None:
        findings = run_checks(text)
    signals = _signals(text, findings)
    return signals, [rule for rule in RULES if rule.trigger(signals)]


def _placeholders(signals: Signals) -> dict[str, str]:
    def handle(kind: str) -> str:
        return "@" + PERSONAS_BY_KIND[kind][0].handle if PERSONAS_BY_KIND[kind] else ""

    # The post's own hashtag is the trainee's text, shown back only in their own sandbox.
    return {
        "hashtag": signals.hashtags[0] if signals.hashtags else "",
        "news": handle("local-news"),
        "journalist": handle("journalist"),
    }


def plan(text: str, *, seed: int, findings: Sequence[Finding] | None = None) -> AudiencePlan:
    """How the simulated audience reacts to `text`. Pass the findings if you have them."""
    signals, fired = _fired(text, findings)
    values = _placeholders(signals)
    rng = random.Random(seed)  # noqa: S311 -- a repeatable simulation, not a secret
    reactions: list[PlannedReaction] = []
    for rule in fired:
        peak = min(
            max(rule.reach.peak_minute * 60, _FIRST_REACTION_SECONDS), _LAST_REACTION_SECONDS
        )
        for say in rng.sample(rule.says, rule.picks):
            who = rng.choice(PERSONAS_BY_KIND[say.who])
            at = int(rng.triangular(_FIRST_REACTION_SECONDS, _LAST_REACTION_SECONDS, peak))
            text_said = say.text.format_map(values)
            reactions.append(PlannedReaction(at, who.slug, say.kind, text_said, rule.id))
    # Over the cap, the rules earlier in the table keep their reactions.
    reactions = sorted(reactions[:MAX_REACTIONS], key=lambda r: r.at_seconds)
    return AudiencePlan(
        rules=tuple(rule.id for rule in fired),
        reactions=tuple(reactions),
        # max() keeps the first of equals, so ties go to the rule earlier in the table.
        curves={
            metric: max(fired, key=lambda rule: getattr(rule.reach, metric)).reach.curve(metric)
            for metric in METRICS
        },
    )


def explain(text: str, findings: Sequence[Finding] | None = None) -> list[tuple[str, str]]:
    """The rules `text` sets off, as (id, description), for the coach's "what would happen"."""
    _, fired = _fired(text, findings)
    return [(rule.id, rule.description) for rule in fired]
