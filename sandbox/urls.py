from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from sandbox import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/live/", views.liveness, name="liveness"),
    # Sign-in, password reset and change, second factors, sessions: django-allauth.
    path("accounts/session/", views.idle_session, name="idle_session"),
    path("accounts/security/", views.account_security, name="account_security"),
    # Before allauth's own: nobody changes their own email address (see the view).
    path("accounts/email/", views.email_change_closed, name="account_email"),
    path("accounts/", include("allauth.urls")),
    path("drafts/check/", views.draft_check, name="draft_check"),
    path("images/<int:pk>/", views.post_image, name="post_image"),
    path("", include("coaching.urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCH_BARE_VIEW:
    urlpatterns.insert(0, path("bench/bare/", views.bench_bare, name="bench_bare"))

admin.site.site_header = "Sandpit administration"
admin.site.site_title = "Sandpit admin"
