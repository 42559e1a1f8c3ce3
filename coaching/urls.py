from django.urls import path, re_path

from coaching import notification_views, record_views, views

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("availability/", views.availability, name="availability"),
    path("trainees/unassigned/", views.unassigned_trainees, name="unassigned_trainees"),
    path("trainees/unassigned/<int:pk>/assign/", views.trainee_assign, name="trainee_assign"),
    path("review/<int:pk>/", views.review, name="review"),
    path("review/<int:pk>/claim/", views.review_claim, name="review_claim"),
    path("review/<int:pk>/claim/renew/", views.review_claim_renew, name="review_claim_renew"),
    path("review/<int:pk>/decide/", views.review_decide, name="review_decide"),
    path("review/<int:pk>/override/", views.check_override, name="check_override"),
    path("review/<int:pk>/hold/", views.spot_check_hold, name="spot_check_hold"),
    path("trainees/<int:user_id>/review-mode/", views.review_mode_full, name="review_mode_full"),
    path("publishing/", views.publishing, name="publishing"),
    path("publishing/stop/", views.publishing_stop, name="publishing_stop"),
    path("publishing/resume/<int:pk>/", views.publishing_resume, name="publishing_resume"),
    path(
        "publications/<int:pk>/reconcile/",
        views.publication_reconcile,
        name="publication_reconcile",
    ),
    path("publications/<int:pk>/retry/", views.publication_retry, name="publication_retry"),
    path("publications/<int:pk>/retract/", views.publication_retract, name="publication_retract"),
    path("review/<int:pk>/replay/", views.replay, name="replay"),
    path("scenarios/", views.scenarios, name="scenarios"),
    path(
        "scenarios/examples/<slug:slug>/copy/",
        views.scenario_copy_example,
        name="scenario_copy_example",
    ),
    path("scenarios/<int:pk>/start/", views.scenario_start, name="scenario_start"),
    path(
        "scenarios/<int:pk>/assign-cohort/",
        views.scenario_assign_cohort,
        name="scenario_assign_cohort",
    ),
    path("scenarios/runs/<int:pk>/", views.scenario_debrief, name="scenario_debrief"),
    path("connected-accounts/", views.accounts, name="accounts"),
    path("connected-accounts/x/connect/", views.account_connect_x, name="account_connect_x"),
    re_path(
        r"^connected-accounts/(?P<platform>mastodon|bluesky)/connect/$",
        views.account_connect_other,
        name="account_connect_other",
    ),
    path(
        "connected-accounts/x/callback/",
        views.account_connect_x_callback,
        name="account_connect_x_callback",
    ),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path(
        "notifications/<int:pk>/open/",
        notification_views.notification_open,
        name="notification_open",
    ),
    path(
        "notifications/read/",
        notification_views.notifications_mark_all_read,
        name="notifications_mark_all_read",
    ),
    path(
        "notifications/preferences/",
        notification_views.notification_preferences,
        name="notification_preferences",
    ),
    # The trainee's record, the cohort overview and the audit log.
    path("portfolio/", record_views.own_portfolio, name="portfolio"),
    path("portfolio/export.<kind>", record_views.own_portfolio_export, name="portfolio_export"),
    path(
        "trainees/<int:user_id>/portfolio/",
        record_views.trainee_portfolio,
        name="trainee_portfolio",
    ),
    path(
        "trainees/<int:user_id>/portfolio/export.<kind>",
        record_views.trainee_portfolio_export,
        name="trainee_portfolio_export",
    ),
    path("cohorts/", record_views.cohorts, name="cohorts"),
    path("audit-log/", record_views.audit_log, name="audit_log"),
    path("audit-log/export.csv", record_views.audit_log_export, name="audit_log_export"),
]
