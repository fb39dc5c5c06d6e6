from django.contrib import admin
from django.urls import include, path

from cases.admin import view_on_site

admin.autodiscover()  # here rather than at start-up (settings: SimpleAdminConfig)
admin.site.site_header = "Teaching file — authoring"
admin.site.site_title = "Teaching file authoring"
admin.site.index_title = "Cases, topics and images"

urlpatterns = [
    # Before the admin's own: its "view on site" shortcut redirects any staff user to any object's page.
    path("admin/r/<int:content_type_id>/<path:object_id>/", admin.site.admin_view(view_on_site), name="view-on-site"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("quizzes/", include("quizzes.urls")),
    path("collections/", include("collections_app.urls")),
    path("", include("discussions.urls")),
    path("", include("cases.urls")),
]
