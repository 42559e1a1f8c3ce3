from django import forms
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from sandbox.models import (
    CheckSeverity,
    Cohort,
    Draft,
    DraftRevision,
    LocalIdentifierPattern,
    LocalWord,
    Membership,
    Organisation,
    PreElectionPeriod,
    WorkplaceAccount,
)
from sandbox.selectors import REVIEWER_ROLES, admin_organisation_ids


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]
    # Changed only by coaching.services, which audits every change and tells the trainee.
    readonly_fields = ["review_mode", "spot_check_count"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def,unused-ignore]
        # Only this organisation's cohorts and coaches: never another organisation's.
        organisation_id = request.resolver_match.kwargs.get("object_id")
        if db_field.name == "cohort":
            kwargs["queryset"] = Cohort.objects.filter(organisation_id=organisation_id or 0)
        elif db_field.name in ("coach", "cover_coach"):
            kwargs["queryset"] = User.objects.filter(
                memberships__organisation_id=organisation_id or 0,
                memberships__role__in=REVIEWER_ROLES,
            ).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CheckSeverityInline(admin.TabularInline):
    model = CheckSeverity
    extra = 0
    verbose_name = "check severity"
    verbose_name_plural = "Check severities (leave a check out to keep its default)"

    def formfield_for_dbfield(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def,unused-ignore]
        if db_field.name == "code":
            from sandbox.checks import CHECKS

            return forms.ChoiceField(
                choices=[(check.code, check.title) for check in CHECKS], label="Check"
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class LocalWordInline(admin.TabularInline):
    model = LocalWord
    extra = 0
    verbose_name_plural = "Local words for the profanity check"


class LocalIdentifierPatternInline(admin.TabularInline):
    model = LocalIdentifierPattern
    extra = 0
    verbose_name_plural = "Local patient identifiers (e.g. hospital numbers)"


class PreElectionPeriodInline(admin.TabularInline):
    model = PreElectionPeriod
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # An organisation's audit log is kept for good (the database refuses to delete it).
        return False

    fieldsets = [
        (None, {"fields": ["name", "slug", "review_target_hours", "response_target_hours"]}),
        (
            "Earned autonomy",
            {
                "description": (
                    "After this many first-pass approvals in a row (approved without changes, "
                    "every rubric score at least the minimum, no blocking finding), a trainee "
                    "moves to spot-check mode: their posts publish after the delay unless a "
                    "coach steps in, and 1 in N is still reviewed. A request for changes, a "
                    "rejection, a blocking finding or a coach stepping in returns them to full "
                    "review. Set the streak to 0 to turn this off."
                ),
                "fields": [
                    "autonomy_streak",
                    "autonomy_min_score",
                    "spot_check_every",
                    "spot_check_delay_minutes",
                ],
            },
        ),
        (
            "Legal hold",
            {
                "description": (
                    "While the records are on hold, the organisation's admins cannot erase "
                    "anyone who belongs to it: their records are kept as they are. Say why, "
                    "so the admin who is refused knows whom to ask."
                ),
                "fields": ["records_on_hold", "records_on_hold_reason"],
            },
        ),
    ]
    inlines = [
        MembershipInline,
        CheckSeverityInline,
        LocalWordInline,
        LocalIdentifierPatternInline,
        PreElectionPeriodInline,
    ]


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    """Cohorts are grouped by organisation. Only superusers reach the admin
    (sandbox.admin_site); the scoping to an admin's own organisations below is kept as a
    second line, should anyone else ever be let in."""

    list_display = ["name", "organisation", "created_at"]
    list_filter = ["organisation"]
    search_fields = ["name", "organisation__name"]
    ordering = ["organisation__name", "name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cohort]:
        cohorts = super().get_queryset(request).select_related("organisation")
        if request.user.is_superuser:
            return cohorts
        return cohorts.filter(organisation_id__in=admin_organisation_ids(request.user))  # type: ignore[arg-type]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def,unused-ignore]
        if db_field.name == "organisation" and not request.user.is_superuser:
            kwargs["queryset"] = Organisation.objects.filter(
                pk__in=admin_organisation_ids(request.user)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation"]
    search_fields = ["user__username", "user__email", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]
    readonly_fields = ["review_mode", "spot_check_count"]


class WorkplaceAccountForm(forms.ModelForm):
    # The saved token is never shown back; leaving the box empty keeps it.
    access_token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current token. Stored encrypted.",
    )

    class Meta:
        model = WorkplaceAccount
        fields = [
            "organisation",
            "platform",
            "handle",
            "display_name",
            "remote_user_id",
            "access_token",
            "status",
            "status_detail",
        ]

    def clean_access_token(self) -> str:
        token = self.cleaned_data.get("access_token") or ""
        return token or (self.instance.access_token if self.instance.pk else "")


@admin.register(WorkplaceAccount)
class WorkplaceAccountAdmin(admin.ModelAdmin):
    form = WorkplaceAccountForm
    list_display = ["handle", "platform", "organisation", "status"]

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        # Moving an account would carry its drafts and publications to another
        # organisation; reconnecting happens on the Accounts page, which audits it.
        return ["organisation", "platform", "handle", "status"] if obj else []

    list_filter = ["platform", "status", "organisation"]
    search_fields = ["handle", "display_name"]


class RevisionInline(admin.TabularInline):
    model = DraftRevision
    extra = 0
    can_delete = False
    fields = (
        "number",
        "text",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Draft)
class DraftAdmin(admin.ModelAdmin):
    """Read-only: a draft's status changes only through the services, never by hand."""

    list_display = ["pk", "author", "account", "status", "submitted_at", "updated_at"]
    list_filter = ["status", "account"]
    search_fields = ["author__username", "current_revision__text"]
    inlines = [RevisionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # deleting would take its reviews and publications with it
