from allauth.account import views as account_views
from django.contrib import admin
from django.urls import include, path

from sandbox import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/live/", views.liveness, name="liveness"),
    # allauth's sign-in and sign-out, also under the names the templates already use.
    path("accounts/login/", account_views.login, name="login"),
    path("accounts/logout/", account_views.logout, name="logout"),
    path("accounts/", include("allauth.urls")),
    path("drafts/check/", views.draft_check, name="draft_check"),
    path("images/<int:pk>/", views.post_image, name="post_image"),
    path("", include("coaching.urls")),
    path("admin/", admin.site.urls),
]

admin.site.site_header = "Sandpit administration"
admin.site.site_title = "Sandpit admin"
