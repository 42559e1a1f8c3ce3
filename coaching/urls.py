from django.urls import path

from coaching import views

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("review/<int:pk>/", views.review, name="review"),
    path("review/<int:pk>/claim/", views.review_claim, name="review_claim"),
    path("review/<int:pk>/decide/", views.review_decide, name="review_decide"),
]
