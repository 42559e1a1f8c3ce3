from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from coaching.models import Publication, PublishAttempt, Review


class ReadOnlyAdmin(admin.ModelAdmin):
    """Reviews and publications are records: changed only by services, never by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ["pk", "draft", "reviewer", "decision", "created_at"]
    list_filter = ["decision"]


class AttemptInline(admin.TabularInline):
    model = PublishAttempt
    extra = 0
    can_delete = False
    fields = (
        "started_at",
        "request",
        "outcome",
        "status_code",
        "duration_ms",
        "error_body",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Publication)
class PublicationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "account", "status", "publish_at", "published_at", "remote_url"]
    list_filter = ["status", "account"]
    inlines = [AttemptInline]
