"""What Sandpit holds about one person, as a subject access export shows it, and who may
see an export. Reads only: coaching.services.subject_access writes the zip.

An admin sees only the records of the organisations they administer (``organisation_ids``)
plus the person's own account (name, email, sign-in), which belongs to no organisation.
What belongs to no organisation but may concern another one (an image not yet attached to a
draft, a notice about no draft) is included only when every organisation the person
belongs to is among ``organisation_ids``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.contrib.auth.models import User
from django.db.models import Q, QuerySet

from coaching.models import (
    AccountCover,
    AuditEvent,
    CheckOverride,
    DraftComment,
    DrillStep,
    FeedbackNote,
    InboxItem,
    Invitation,
    LockdownStep,
    Notification,
    NotificationPreference,
    PeopleImport,
    Publication,
    PublishingStop,
    Review,
    SubjectAccessExport,
)
from coaching.selectors import actor_name, reviewer_name
from coaching.selectors.erasure import identifying_terms, whole_word
from sandbox.models import (
    Draft,
    DraftRevision,
    Membership,
    PostImage,
    ScenarioRun,
    TimelineItem,
)
from sandbox.selectors import admin_organisation_ids, display_name, in_organisations

Row = dict[str, object]


def _when(value: object) -> str | None:
    return value.isoformat() if value is not None else None  # type: ignore[attr-defined]


def image_path(image: PostImage) -> str:
    """Where an image is in the zip (README and the tables name it so)."""
    extension = image.file.name.rsplit(".", 1)[-1] if "." in image.file.name else "bin"
    return f"images/{image.pk}.{extension}"


@dataclass(frozen=True)
class Scope:
    person: User
    organisation_ids: tuple[int, ...]
    # Every organisation the person belongs to is in scope: what belongs to none is shown.
    whole_person: bool


def scope_for(person: User, organisation_ids: Sequence[int]) -> Scope:
    theirs = set(Membership.objects.filter(user=person).values_list("organisation_id", flat=True))
    ids = tuple(sorted(theirs & set(organisation_ids)))
    return Scope(person=person, organisation_ids=ids, whole_person=theirs <= set(ids))


def drafts_of(scope: Scope) -> QuerySet[Draft]:
    return Draft.objects.filter(
        author=scope.person, account__organisation_id__in=scope.organisation_ids
    )


def images_of(scope: Scope) -> list[PostImage]:
    images = Q(draft__in=drafts_of(scope))
    if scope.whole_person:
        images |= Q(draft__isnull=True, uploaded_by=scope.person)
    return list(PostImage.objects.filter(images).order_by("pk"))


def _account(scope: Scope) -> list[Row]:
    person = scope.person
    return [
        {
            "id": person.pk,
            "username": person.username,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "joined": _when(person.date_joined),
            "last_signed_in": _when(person.last_login),
            "can_sign_in": person.is_active,
            "has_a_password": person.has_usable_password(),
        }
    ]


def _email_addresses(scope: Scope) -> list[Row]:
    return [
        {"email": address.email, "verified": address.verified, "primary": address.primary}
        for address in EmailAddress.objects.filter(user=scope.person).order_by("pk")
    ]


def _second_factors(scope: Scope) -> list[Row]:
    # What kind and when, never the secrets themselves.
    return [
        {
            "kind": factor.get_type_display(),
            "added": _when(factor.created_at),
            "last_used": _when(factor.last_used_at),
        }
        for factor in Authenticator.objects.filter(user=scope.person).order_by("pk")
    ]


def _sessions(scope: Scope) -> list[Row]:
    return [
        {
            "started": _when(session.created_at),
            "last_seen": _when(session.last_seen_at),
            "address": session.ip,
            "browser": session.user_agent,
        }
        for session in UserSession.objects.filter(user=scope.person).order_by("created_at")
    ]


def _single_sign_on_links(scope: Scope) -> list[Row]:
    return [
        {
            "provider": link.provider,
            "their_id_there": link.uid,
            "linked": _when(link.date_joined),
            "last_used": _when(link.last_login),
            "what_the_provider_sent": link.extra_data,
        }
        for link in SocialAccount.objects.filter(user=scope.person).order_by("pk")
    ]


def _notification_preferences(scope: Scope) -> list[Row]:
    preference = NotificationPreference.objects.filter(user=scope.person).first()
    if preference is None:
        return []
    return [
        {
            "email_reviews": preference.email_reviews,
            "email_submissions": preference.email_submissions,
            "email_past_target": preference.email_past_target,
            "daily_digest": preference.daily_digest,
        }
    ]


def _memberships(scope: Scope) -> list[Row]:
    memberships = Membership.objects.filter(
        user=scope.person, organisation_id__in=scope.organisation_ids
    ).select_related("organisation", "cohort", "coach", "cover_coach")
    return [
        {
            "organisation": membership.organisation.name,
            "role": membership.get_role_display(),
            "active": membership.is_active,
            "cohort": membership.cohort.name if membership.cohort else "",
            "named_coach": display_name(membership.coach) if membership.coach else "",
            "review_mode": membership.get_review_mode_display(),
            "away_from": _when(membership.away_from),
            "away_until": _when(membership.away_until),
            "cover_coach": display_name(membership.cover_coach) if membership.cover_coach else "",
            "since": _when(membership.created_at),
        }
        for membership in memberships.order_by("organisation__name")
    ]


def _invitations(scope: Scope) -> list[Row]:
    invitations = Invitation.objects.filter(
        membership__user=scope.person, membership__organisation_id__in=scope.organisation_ids
    ).select_related("membership__organisation", "invited_by")
    return [
        {
            "organisation": invitation.membership.organisation.name,
            "invited_by": display_name(invitation.invited_by) if invitation.invited_by else "",
            "sent": _when(invitation.created_at),
            "link_expires": _when(invitation.expires_at),
            "accepted": _when(invitation.accepted_at),
        }
        for invitation in invitations.order_by("created_at")
    ]


def _drafts(scope: Scope) -> list[Row]:
    drafts = drafts_of(scope).select_related("account__organisation").order_by("created_at")
    return [
        {
            "draft": draft.pk,
            "organisation": draft.account.organisation.name,
            "account": f"@{draft.account.handle}",
            "status": draft.get_status_display(),
            "practice_only": draft.is_sandbox_only,
            "created": _when(draft.created_at),
            "first_sent_for_review": _when(draft.first_submitted_at),
            "last_changed": _when(draft.updated_at),
        }
        for draft in drafts
    ]


def _revisions(scope: Scope) -> list[Row]:
    revisions = DraftRevision.objects.filter(draft__in=drafts_of(scope)).order_by("draft", "number")
    paths = {image.pk: image_path(image) for image in images_of(scope)}
    return [
        {
            "draft": revision.draft_id,
            "revision": revision.number,
            "text": revision.text,
            "further_posts_of_the_thread": revision.thread,
            "images": [
                {"file": paths.get(int(str(entry["id"])), ""), "alt_text": entry["alt"]}
                for post in revision.images_by_post
                for entry in post
            ],
            "written": _when(revision.created_at),
        }
        for revision in revisions
    ]


def _images(scope: Scope) -> list[Row]:
    return [
        {
            "file": image_path(image),
            "draft": image.draft_id,
            "type": image.content_type,
            "width": image.width,
            "height": image.height,
            "bytes": image.size,
            "uploaded": _when(image.created_at),
        }
        for image in images_of(scope)
    ]


def _reviews_received(scope: Scope) -> list[Row]:
    reviews = (
        Review.objects.filter(draft__in=drafts_of(scope))
        .select_related("reviewer", "revision")
        .order_by("created_at")
    )
    return [
        {
            "draft": review.draft_id,
            "revision": review.revision.number,
            "decided_by": reviewer_name(review),
            "decision": review.get_decision_display(),
            **review.scores,
            "tags": review.tags,
            "suggested_rewrite": review.suggestion,
            "decided": _when(review.created_at),
        }
        for review in reviews
    ]


def _feedback_received(scope: Scope) -> list[Row]:
    notes = (
        FeedbackNote.objects.filter(review__draft__in=drafts_of(scope))
        .select_related("author", "review")
        .order_by("created_at")
    )
    return [
        {
            "draft": note.review.draft_id,
            "from": display_name(note.author),
            "note": note.body,
            "about_the_words": note.quote,
            "written": _when(note.created_at),
        }
        for note in notes
    ]


def _publications(scope: Scope) -> list[Row]:
    publications = Publication.objects.filter(draft__in=drafts_of(scope)).order_by("created_at")
    return [
        {
            "draft": publication.draft_id,
            "state": publication.phase.label,
            "text": publication.text,
            "posts": [part.get("text", "") for part in publication.parts],
            "link": publication.remote_url,
            "published": _when(publication.published_at),
        }
        for publication in publications.select_related("approval")
    ]


def _reviews_written(scope: Scope) -> list[Row]:
    # The trainee's draft is theirs, not this person's: it is named by number only.
    reviews = Review.objects.filter(
        reviewer=scope.person, draft__account__organisation_id__in=scope.organisation_ids
    ).order_by("created_at")
    return [
        {
            "draft": review.draft_id,
            "decision": review.get_decision_display(),
            **review.scores,
            "tags": review.tags,
            "suggested_rewrite": review.suggestion,
            "decided": _when(review.created_at),
        }
        for review in reviews
    ]


def _notes_written(scope: Scope) -> list[Row]:
    notes = FeedbackNote.objects.filter(
        author=scope.person, review__draft__account__organisation_id__in=scope.organisation_ids
    ).select_related("review")
    return [
        {"draft": note.review.draft_id, "note": note.body, "written": _when(note.created_at)}
        for note in notes.order_by("created_at")
    ]


def _comments(scope: Scope) -> list[Row]:
    """Threads on the person's drafts, and what they wrote in others' (by number only)."""
    comments = DraftComment.objects.filter(
        Q(draft__in=drafts_of(scope))
        | Q(author=scope.person, draft__account__organisation_id__in=scope.organisation_ids)
    ).select_related("author")
    return [
        {
            "draft": comment.draft_id,
            "from": display_name(comment.author),
            "comment": comment.body,
            "written": _when(comment.created_at),
        }
        for comment in comments.order_by("created_at", "pk")
    ]


def _overrides_written(scope: Scope) -> list[Row]:
    overrides = CheckOverride.objects.filter(
        coach=scope.person,
        revision__draft__account__organisation_id__in=scope.organisation_ids,
    ).select_related("revision")
    return [
        {
            "draft": override.revision.draft_id,
            "checks": override.codes,
            "reason": override.reason,
            "when": _when(override.created_at),
        }
        for override in overrides.order_by("created_at")
    ]


def _publishing_stops(scope: Scope) -> list[Row]:
    stops = PublishingStop.objects.filter(
        Q(started_by=scope.person) | Q(ended_by=scope.person),
        organisation_id__in=scope.organisation_ids,
    ).select_related("organisation")
    return [
        {
            "organisation": stop.organisation.name,
            "reason": stop.reason,
            "started_by_them": stop.started_by_id == scope.person.pk,
            "started": _when(stop.started_at),
            "ended": _when(stop.ended_at),
        }
        for stop in stops.order_by("started_at")
    ]


def _lockdowns(scope: Scope) -> list[Row]:
    """Lockdowns they started, and recovery steps they ticked."""
    steps = LockdownStep.objects.filter(
        Q(lockdown__started_by=scope.person) | Q(done_by=scope.person),
        lockdown__organisation_id__in=scope.organisation_ids,
    ).select_related("lockdown__account")
    return [
        {
            "account": f"@{step.lockdown.account.handle}",
            "reason": step.lockdown.reason,
            "started_by_them": step.lockdown.started_by_id == scope.person.pk,
            "started": _when(step.lockdown.started_at),
            "step": step.get_step_display(),
            "step_done_by_them": step.done_by_id == scope.person.pk,
            "step_done": _when(step.done_at),
        }
        for step in steps.order_by("lockdown__started_at", "position")
    ]


def _drill_runs(scope: Scope) -> list[Row]:
    """Their goes at lockdown drills: when they started, locked down, and did each step."""
    steps = DrillStep.objects.filter(
        run__trainee=scope.person, run__drill__organisation_id__in=scope.organisation_ids
    ).select_related("run__drill__account", "run__drill__cohort")
    return [
        {
            "drill": f"@{step.run.drill.account.handle}, {step.run.drill.cohort.name}",
            "incident": step.run.drill.incident,
            "started": _when(step.run.started_at),
            "locked_down": _when(step.run.locked_down_at),
            "step": step.get_step_display(),
            "step_done": _when(step.done_at),
        }
        for step in steps.order_by("run__drill__started_at", "run_id", "position")
    ]


def _account_cover(scope: Scope) -> list[Row]:
    """The cover periods they were on, with the notes passed between them and the owner,
    and those of accounts they own."""
    covers = AccountCover.objects.filter(
        Q(person=scope.person) | Q(account__owner=scope.person),
        account__organisation_id__in=scope.organisation_ids,
    ).select_related("account", "person")
    return [
        {
            "account": f"@{cover.account.handle}",
            "covering": display_name(cover.person),
            "from": str(cover.starts_on),
            "to": str(cover.ends_on),
            "handover_note": cover.handover_note,
            "handback_note": cover.handback_note,
        }
        for cover in covers.order_by("starts_on", "pk")
    ]


def _inbox(scope: Scope) -> list[Row]:
    """The posts by the public given to them or dealt with by them (by the platform's id:
    the words are someone else's)."""
    items = InboxItem.objects.filter(
        Q(assigned_to=scope.person) | Q(handled_by=scope.person),
        account__organisation_id__in=scope.organisation_ids,
    ).select_related("account")
    return [
        {
            "account": f"@{item.account.handle}",
            "post": item.remote_id,
            "given_to_them": item.assigned_to_id == scope.person.pk,
            "state": item.get_state_display(),
            "dealt_with_by_them": item.handled_by_id == scope.person.pk,
            "dealt_with": _when(item.handled_at),
        }
        for item in items.order_by("posted_at", "pk")
    ]


def timeline_items_of(scope: Scope) -> QuerySet[TimelineItem]:
    """The person's practice timeline in these organisations: the posts that belong to one
    (sandbox.selectors.in_organisations) and every reaction under them."""
    owned = TimelineItem.objects.filter(owner=scope.person)
    ids = set(owned.filter(in_organisations(scope.organisation_ids)).values_list("pk", flat=True))
    frontier = ids
    while frontier:
        frontier = set(
            owned.filter(parent_id__in=frontier).exclude(pk__in=ids).values_list("pk", flat=True)
        )
        ids |= frontier
    return owned.filter(pk__in=ids)


def _timeline(scope: Scope) -> list[Row]:
    return [
        {
            "item": item.pk,
            "kind": item.get_kind_display(),
            "by": item.persona or "them",
            "text": item.text,
            "in_answer_to": item.parent_id,
            "appeared": _when(item.appear_at),
        }
        for item in timeline_items_of(scope).order_by("appear_at", "pk")
    ]


def _scenario_runs(scope: Scope) -> list[Row]:
    runs = ScenarioRun.objects.filter(
        trainee=scope.person, scenario__organisation_id__in=scope.organisation_ids
    ).select_related("scenario", "cohort")
    return [
        {
            "scenario": run.scenario.title,
            "cohort": run.cohort.name if run.cohort else "",
            "started": _when(run.started_at),
        }
        for run in runs.order_by("started_at")
    ]


def _notifications(scope: Scope) -> list[Row]:
    about = Q(draft__account__organisation_id__in=scope.organisation_ids)
    if scope.whole_person:
        about |= Q(draft__isnull=True)
    notices = Notification.objects.filter(about, user=scope.person).order_by("created_at")
    return [
        {
            "kind": notice.get_kind_display(),
            "message": notice.message,
            "draft": notice.draft_id,
            "sent": _when(notice.created_at),
            "read": _when(notice.read_at),
        }
        for notice in notices
    ]


def audit_events_about(scope: Scope) -> list[AuditEvent]:
    """Events in these organisations that the person did, that are about them as a
    trainee, or that name them (an admin deactivating them, say), oldest first. A name
    counts only as a whole word, so "Tara" does not bring in "Tarak"'s events."""
    person = scope.person
    terms = identifying_terms(person)
    named = Q(actor=person) | Q(trainee=person)
    for term in terms:
        named |= Q(detail__icontains=term)
    events = (
        AuditEvent.objects.filter(named, organisation_id__in=scope.organisation_ids)
        .select_related("organisation", "actor")
        .order_by("created_at", "pk")
    )
    patterns = [whole_word(term) for term in terms]
    return [
        event
        for event in events
        if event.actor_id == person.pk
        or event.trainee_id == person.pk
        or any(pattern.search(event.detail) for pattern in patterns)
    ]


def _audit_events(scope: Scope) -> list[Row]:
    return [
        {
            "when": _when(event.created_at),
            "organisation": event.organisation.name,
            "what": event.get_action_display(),
            "who": actor_name(event),
            "detail": event.detail,
        }
        for event in audit_events_about(scope)
    ]


def _people_imports(scope: Scope) -> list[Row]:
    """Their line in any file of people an admin imported."""
    email = scope.person.email.casefold()
    if not email:
        return []
    imports = PeopleImport.objects.filter(
        organisation_id__in=scope.organisation_ids, results__icontains=email
    ).order_by("created_at")
    return [
        {
            "file": people_import.file_name,
            "imported": _when(people_import.created_at),
            "line": result.get("line"),
            "outcome": result.get("outcome"),
            "reason": result.get("reason"),
        }
        for people_import in imports
        for result in people_import.results
        if str(result.get("email", "")).casefold() == email
    ]


# Every table of the export, in order: its name (the CSV's and the JSON key) and its rows.
SECTIONS: tuple[tuple[str, Callable[[Scope], list[Row]]], ...] = (
    ("account", _account),
    ("email_addresses", _email_addresses),
    ("second_factors", _second_factors),
    ("sessions", _sessions),
    ("single_sign_on_links", _single_sign_on_links),
    ("notification_preferences", _notification_preferences),
    ("memberships", _memberships),
    ("invitations", _invitations),
    ("people_imports", _people_imports),
    ("drafts", _drafts),
    ("revisions", _revisions),
    ("images", _images),
    ("reviews_received", _reviews_received),
    ("feedback_received", _feedback_received),
    ("publications", _publications),
    ("reviews_written", _reviews_written),
    ("notes_written", _notes_written),
    ("comments", _comments),
    ("overrides_written", _overrides_written),
    ("publishing_stops", _publishing_stops),
    ("lockdowns", _lockdowns),
    ("account_cover", _account_cover),
    ("inbox", _inbox),
    ("timeline", _timeline),
    ("scenario_runs", _scenario_runs),
    ("drill_runs", _drill_runs),
    ("notifications", _notifications),
    ("audit_events", _audit_events),
)


# Exports, for the admins who may see them ------------------------------------------------


def may_download(user: User, export: SubjectAccessExport) -> bool:
    """Someone who administers every organisation whose records the export holds: the
    admin who asked (while still an admin there) or a fellow admin of the same ones."""
    return set(export.organisation_ids) <= set(admin_organisation_ids(user))


def export_for(user: User, pk: int) -> SubjectAccessExport | None:
    export = (
        SubjectAccessExport.objects.select_related("person", "requested_by", "organisation")
        .filter(pk=pk)
        .first()
    )
    if export is None or not may_download(user, export):
        return None
    return export


def exports_of(person: User, user: User) -> list[SubjectAccessExport]:
    """The person's recent exports that this admin may see, newest first."""
    exports = SubjectAccessExport.objects.filter(person=person).select_related("requested_by")
    return [export for export in exports[:10] if may_download(user, export)]
