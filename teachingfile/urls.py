from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Teaching file — authoring"
admin.site.site_title = "Teaching file authoring"
admin.site.index_title = "Cases, topics and images"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("quizzes/", include("quizzes.urls")),
    path("", include("discussions.urls")),
    path("", include("cases.urls")),
]
