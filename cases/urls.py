from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case-list"),
    path("my-cases/", views.case_done_list, name="case-done-list"),
    path("cases/<slug:number>/", views.case_detail, name="case-detail"),
    path("cases/<slug:number>/viewer/", views.case_viewer, name="case-viewer"),
    path("cases/<slug:number>/viewer/data/", views.case_viewer_data, name="case-viewer-data"),
    path("cases/<slug:number>/gates/<int:pk>/answer/", views.gate_answer, name="gate-answer"),
    path("cases/<slug:number>/reveal/", views.case_reveal, name="case-reveal"),
    path("cases/<slug:number>/findings/<int:pk>/view/", views.finding_view_link, name="finding-view-link"),
    path("cases/<slug:number>/assessment/", views.case_assess, name="case-assess"),
    path("topics/", views.topic_list, name="topic-list"),
    path("topics/names.json", views.topic_names, name="topic-names"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic-detail"),
    path("media/<path:name>", views.media_file, name="media-file"),
    path("images/<int:pk>/values/", views.image_values, name="image-values"),
    path("series/<int:pk>/values/", views.series_values, name="series-values"),
]
