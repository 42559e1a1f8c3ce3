from django.urls import path, re_path

from coaching import views

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("availability/", views.availability, name="availability"),
    path("trainees/unassigned/", views.unassigned_trainees, name="unassigned_trainees"),
    path("trainees/unassigned/<int:pk>/assign/", views.trainee_assign, name="trainee_assign"),
    path("review/<int:pk>/", views.review, name="review"),
    path("review/<int:pk>/claim/", views.review_claim, name="review_claim"),
    path("review/<int:pk>/decide/", views.review_decide, name="review_decide"),
    path("review/<int:pk>/override/", views.check_override, name="check_override"),
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
]
