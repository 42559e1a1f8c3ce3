from django.urls import path, re_path

from coaching.views import (
    accounts,
    cover,
    drafts,
    health,
    notifications,
    publishing,
    queue,
    record,
    review,
    scenarios,
    second_factor,
    single_sign_on,
    timeline,
)

urlpatterns = [
    path("health/", health.health, name="health"),
    # The trainee's timeline and draft pages (they show reviews and publications).
    path("timeline/", timeline.timeline, name="timeline"),
    path("timeline/<int:pk>/", timeline.timeline_item, name="timeline_item"),
    path("trainees/<int:user_id>/timeline/", timeline.trainee_timeline, name="trainee_timeline"),
    path("drafts/<int:pk>/", drafts.draft_detail, name="draft_detail"),
    path("drafts/<int:pk>/edit/", drafts.draft_edit, name="draft_edit"),
    path("drafts/<int:pk>/submit/", drafts.draft_submit, name="draft_submit"),
    path(
        "drafts/<int:pk>/suggestions/<int:review_pk>/use/",
        drafts.suggestion_accept,
        name="suggestion_accept",
    ),
    path("drafts/<int:pk>/withdraw/", drafts.draft_withdraw, name="draft_withdraw"),
    # The coach's and admin's pages.
    path("queue/", queue.queue, name="queue"),
    path("availability/", cover.availability, name="availability"),
    path("trainees/unassigned/", cover.unassigned_trainees, name="unassigned_trainees"),
    path("trainees/unassigned/<int:pk>/assign/", cover.trainee_assign, name="trainee_assign"),
    path("review/<int:pk>/", review.review, name="review"),
    path("review/<int:pk>/claim/", review.review_claim, name="review_claim"),
    path("review/<int:pk>/claim/renew/", review.review_claim_renew, name="review_claim_renew"),
    path("review/<int:pk>/decide/", review.review_decide, name="review_decide"),
    path("review/<int:pk>/override/", review.check_override, name="check_override"),
    path("review/<int:pk>/hold/", review.spot_check_hold, name="spot_check_hold"),
    path("trainees/<int:user_id>/review-mode/", review.review_mode_full, name="review_mode_full"),
    path("publishing/", publishing.publishing, name="publishing"),
    path("publishing/stop/", publishing.publishing_stop, name="publishing_stop"),
    path("publishing/resume/<int:pk>/", publishing.publishing_resume, name="publishing_resume"),
    path(
        "publications/<int:pk>/reconcile/",
        publishing.publication_reconcile,
        name="publication_reconcile",
    ),
    path("publications/<int:pk>/retry/", publishing.publication_retry, name="publication_retry"),
    path(
        "publications/<int:pk>/retract/", publishing.publication_retract, name="publication_retract"
    ),
    path("review/<int:pk>/replay/", scenarios.replay, name="replay"),
    path("scenarios/", scenarios.scenarios, name="scenarios"),
    path(
        "scenarios/examples/<slug:slug>/copy/",
        scenarios.scenario_copy_example,
        name="scenario_copy_example",
    ),
    path("scenarios/<int:pk>/start/", scenarios.scenario_start, name="scenario_start"),
    path(
        "scenarios/<int:pk>/assign-cohort/",
        scenarios.scenario_assign_cohort,
        name="scenario_assign_cohort",
    ),
    path("scenarios/runs/<int:pk>/", scenarios.scenario_debrief, name="scenario_debrief"),
    path("single-sign-on/", single_sign_on.single_sign_on, name="single_sign_on"),
    path("accounts/sso/", single_sign_on.sign_on_choose, name="sign_on_choose"),
    path("connected-accounts/", accounts.accounts, name="accounts"),
    path("connected-accounts/x/connect/", accounts.account_connect_x, name="account_connect_x"),
    re_path(
        r"^connected-accounts/(?P<platform>mastodon|bluesky)/connect/$",
        accounts.account_connect_other,
        name="account_connect_other",
    ),
    path(
        "connected-accounts/x/callback/",
        accounts.account_connect_x_callback,
        name="account_connect_x_callback",
    ),
    path("notifications/", notifications.notification_list, name="notifications"),
    path(
        "notifications/<int:pk>/open/",
        notifications.notification_open,
        name="notification_open",
    ),
    path(
        "notifications/read/",
        notifications.notifications_mark_all_read,
        name="notifications_mark_all_read",
    ),
    path(
        "notifications/preferences/",
        notifications.notification_preferences,
        name="notification_preferences",
    ),
    # The trainee's record, the cohort overview and the audit log.
    path("portfolio/", record.own_portfolio, name="portfolio"),
    path("portfolio/export.<kind>", record.own_portfolio_export, name="portfolio_export"),
    path(
        "trainees/<int:user_id>/portfolio/",
        record.trainee_portfolio,
        name="trainee_portfolio",
    ),
    path(
        "trainees/<int:user_id>/portfolio/export.<kind>",
        record.trainee_portfolio_export,
        name="trainee_portfolio_export",
    ),
    path("cohorts/", record.cohorts, name="cohorts"),
    path("audit-log/", record.audit_log, name="audit_log"),
    # The lost-device path (an admin removes a person's second factors).
    path("second-factors/", second_factor.second_factors, name="second_factors"),
    path(
        "second-factors/<int:pk>/reset/",
        second_factor.second_factors_reset_view,
        name="second_factors_reset",
    ),
    path("audit-log/export.csv", record.audit_log_export, name="audit_log_export"),
]
