from django.urls import path

from . import views

app_name = "discussions"

urlpatterns = [
    path("cases/<slug:number>/discussion/", views.thread, name="thread"),
    path("cases/<slug:number>/discussion/comment/", views.comment_create, name="comment-create"),
    path("discussion/comments/<int:pk>/edit/", views.comment_edit, name="comment-edit"),
    path("discussion/comments/<int:pk>/delete/", views.comment_delete, name="comment-delete"),
    path("discussion/comments/<int:pk>/flag/", views.comment_flag, name="comment-flag"),
    path("discussion/comments/<int:pk>/hide/", views.comment_hide, name="comment-hide"),
    path("discussion/comments/<int:pk>/restore/", views.comment_restore, name="comment-restore"),
    path("discussion/moderation/", views.moderation, name="moderation"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
]
