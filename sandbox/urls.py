from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sandbox import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
    path("health/live/", views.liveness, name="liveness"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("timeline/", views.timeline, name="timeline"),
    path("timeline/<int:pk>/", views.timeline_item, name="timeline_item"),
    path("trainees/<int:user_id>/timeline/", views.trainee_timeline, name="trainee_timeline"),
    path("drafts/check/", views.draft_check, name="draft_check"),
    path("drafts/<int:pk>/", views.draft_detail, name="draft_detail"),
    path("drafts/<int:pk>/edit/", views.draft_edit, name="draft_edit"),
    path("drafts/<int:pk>/submit/", views.draft_submit, name="draft_submit"),
    path(
        "drafts/<int:pk>/suggestions/<int:review_pk>/use/",
        views.suggestion_accept,
        name="suggestion_accept",
    ),
    path("drafts/<int:pk>/withdraw/", views.draft_withdraw, name="draft_withdraw"),
    path("images/<int:pk>/", views.post_image, name="post_image"),
    path("", include("coaching.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Sandpit administration"
admin.site.site_title = "Sandpit admin"
