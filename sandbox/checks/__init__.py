"""Content risk and accessibility checks for a draft post: pure functions, no Django, no I/O.

    from sandbox.checks import CheckContext, run_checks
    for finding in run_checks(text, context=CheckContext(today=date.today())):
        print(finding.code, finding.severity, text[finding.start : finding.end], finding.message)

Every check is registered here, once, in CHECKS: its stable code, a title and description for
settings pages, its default severity, and the function that finds it. A check function takes the
post and the context and yields Hits; run_checks turns them into Findings with the check's code
and the severity the organisation chose ("off" skips the check).

Severities: "block" cannot be submitted until fixed (or a coach overrides it with a reason),
"warn" is shown to the coach, "tip" is advice. A few checks raise some findings above their
default (a mobile phone number or a strong swear word blocks); an override applies to them all.

Every check also runs on each image's description (alt text), which is published with the
image: a finding there carries the image's media_index and points into that description.
Patient details are joined across the post, its descriptions and the rest of its thread
(CheckContext.thread), so a name in one and an illness in another are still found.

Findings about the post as a whole or its media span the whole text. run_checks does not catch
errors from a check: a check that failed silently would let a patient's NHS number through.
The tests hold every check to never raising on any text.
"""

from __future__ import annotations

from dataclasses import replace

from sandbox.checks import (
    accessibility,
    election,
    emoji,
    hashtags,
    identifiers,
    language,
    links,
    patients,
    plain,
    pledges,
)
from sandbox.checks.base import (
    OFF,
    SEVERITIES,
    Check,
    CheckContext,
    Finding,
    MediaInfo,
    Post,
    Severity,
)

__all__ = [
    "CHECKS",
    "CODES",
    "Check",
    "CheckContext",
    "Finding",
    "MediaInfo",
    "Severity",
    "run_checks",
]

CHECKS: tuple[Check, ...] = (
    Check(
        "patient-identifier",
        "Patient identifier",
        "block",
        "NHS and CHI numbers, and your organisation's own patient numbers.",
        identifiers.patient_identifiers,
    ),
    Check(
        "patient-details",
        "Patient details in words",
        "block",
        "Someone who could be identified (a name, an age and a town, the man in bed 4) beside "
        "their illness, treatment or stay in hospital, in the post or its thread.",
        patients.patient_details,
    ),
    Check(
        "phone-number",
        "Phone number",
        "warn",
        "Mobile and landline numbers that may reach one person (mobiles block).",
        identifiers.phone_numbers,
    ),
    Check(
        "email-address",
        "Email address",
        "warn",
        "Email addresses, which may be one person's.",
        identifiers.email_addresses,
    ),
    Check(
        "postcode",
        "Full postcode",
        "warn",
        "Full UK postcodes, which can point to someone's home.",
        identifiers.postcodes,
    ),
    Check(
        "date-of-birth",
        "Date of birth",
        "block",
        "A date given as someone's date of birth.",
        identifiers.dates_of_birth,
    ),
    Check(
        "engagement-pledge",
        "Engagement pledge",
        "block",
        'Promises paid for in likes, reposts, shares or follows: "£1 for every retweet", '
        '"Share this and we\'ll give £3", "20 reposts and I\'ll wear my jumper".',
        pledges.engagement_pledges,
    ),
    Check(
        "profanity",
        "Swearing",
        "block",
        "Swear words, including disguised ones; mild ones only warn.",
        language.profanity,
    ),
    Check(
        "hashtag-case",
        "Hashtag not in CamelCase",
        "warn",
        "Hashtags of several words in lower case, which screen readers garble.",
        hashtags.hashtag_case,
    ),
    Check(
        "too-many-hashtags",
        "Too many hashtags",
        "warn",
        "More than two hashtags.",
        hashtags.too_many_hashtags,
    ),
    Check(
        "emoji-overuse",
        "Too many emoji",
        "warn",
        "More than three emoji, or the same one repeated.",
        emoji.emoji_overuse,
    ),
    Check(
        "all-caps",
        "Shouting",
        "warn",
        "Several words in capitals in a row, or a post mostly in capitals.",
        accessibility.all_caps,
    ),
    Check(
        "reading-age",
        "Reading age",
        "tip",
        "A reading age above the NHS target of 9 to 11, a short post dense with long words, "
        "and NHS jargon with a plain alternative.",
        plain.plain_language,
    ),
    Check(
        "missing-alt-text",
        "Image without alt text",
        "block",
        "An image or video with no description for screen-reader users.",
        accessibility.missing_alt_text,
    ),
    Check(
        "link-count",
        "Several links",
        "tip",
        "More than one link.",
        links.link_count,
    ),
    Check(
        "pre-election-period",
        "Pre-election period",
        "warn",
        "Political words during one of your organisation's pre-election periods.",
        election.pre_election_period,
    ),
)
CODES: tuple[str, ...] = tuple(check.code for check in CHECKS)

_DEFAULT_CONTEXT = CheckContext()


def run_checks(text: str, *, context: CheckContext = _DEFAULT_CONTEXT) -> list[Finding]:
    """Everything the checks find in the text and its images' descriptions: the text's
    findings first, sorted by where they start, then each description's, image by image."""
    post = Post(text)
    parts: list[tuple[int | None, Post]] = [(None, post)]
    for index, media in enumerate(context.media):
        alt = media.alt_text
        if isinstance(alt, str) and alt.strip():
            parts.append((index, Post(alt, f"in image {index + 1}'s description")))
    thread = tuple(
        Post(t, "in another post of this thread")
        for t in context.thread
        if isinstance(t, str) and t.strip()
    )
    if len(parts) > 1 or thread:
        published = [part for _, part in parts] + list(thread)
        for _, part in parts:
            part.neighbours = tuple(other for other in published if other is not part)
    # A description is not an image: missing-alt-text looks at the post's media only.
    alt_context = replace(context, media=()) if len(parts) > 1 else context

    findings: list[Finding] = []
    for check in CHECKS:
        override = context.severity_overrides.get(check.code)
        if override == OFF:
            continue
        forced = SEVERITIES.get(override) if override is not None else None
        for media_index, part in parts:
            for hit in check.run(part, context if media_index is None else alt_context):
                severity = forced or hit.severity or check.severity
                findings.append(
                    Finding(check.code, severity, hit.start, hit.end, hit.message, media_index)
                )
    findings.sort(
        key=lambda f: (-1 if f.media_index is None else f.media_index, f.start, f.end, f.code)
    )
    return findings
