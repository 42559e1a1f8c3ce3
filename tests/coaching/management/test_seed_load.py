"""seed_load (coaching/management/commands/seed_load.py): the load-test data's shapes, at a
small size, and its refusals."""

import pytest
from django.core.management import CommandError, call_command

from coaching import selectors
from coaching.models import Publication, Review
from sandbox.models import Draft, DraftRevision, Membership, PostImage, TimelineItem

pytestmark = pytest.mark.django_db


def test_it_loads_every_shape_the_pages_show():
    call_command(
        "seed_load", drafts=400, trainees=60, timeline_items=150, username="tl", stdout=None
    )
    assert Draft.objects.count() == 400
    assert Membership.objects.filter(role="trainee").count() == 60
    assert TimelineItem.objects.filter(owner__username="tl").count() == 150
    # Threads, replies under posts, images named by their revision, every draft's current
    # revision set, and reviews and publications for the decided ones.
    assert DraftRevision.objects.exclude(thread=[]).exists()
    assert TimelineItem.objects.filter(parent__isnull=False).exists()
    image = PostImage.objects.first()
    assert image is not None
    assert DraftRevision.objects.filter(images__0__0__id=image.pk, draft=image.draft).exists()
    assert not Draft.objects.filter(current_revision__isnull=True).exists()
    for draft in Draft.objects.filter(status="approved")[:20]:
        publication = Publication.objects.get(draft=draft)
        assert publication.revision_id == draft.current_revision_id
        assert publication.approval.decision == Review.Decision.APPROVE
        assert publication.content_hash == draft.current_revision.content_hash
    waiting = Draft.objects.filter(status__in=["submitted", "in_review"]).count()
    assert 0.1 * 400 < waiting < 0.3 * 400  # about a fifth, as in the data
    # Coaches with routing: named coaches, one away with a cover, some trainees in the pool.
    assert Membership.objects.filter(role="trainee", coach__isnull=True).exists()
    assert Membership.objects.filter(role="coach", cover_coach__isnull=False).exists()
    coach = Membership.objects.get(user__username="load-coach").user
    queue = selectors.queue_page(coach, selectors.QueueFilters(scope="mine"))
    assert 0 < queue.waiting <= waiting and queue.absences  # covering for the away coach


def test_it_refuses_to_load_twice():
    call_command("seed_load", drafts=5, trainees=2, timeline_items=5, stdout=None)
    with pytest.raises(CommandError, match="already has load data"):
        call_command("seed_load", drafts=5, trainees=2, timeline_items=5, stdout=None)
