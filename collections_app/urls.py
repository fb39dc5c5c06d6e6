from django.urls import path

from . import views

app_name = "collections"

urlpatterns = [
    path("", views.collection_list, name="collection-list"),
    path("add/<slug:number>/", views.collection_add_case, name="collection-add-case"),
    path("<slug:slug>/", views.collection_detail, name="collection-detail"),
]
