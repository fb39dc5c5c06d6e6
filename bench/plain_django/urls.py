from django.urls import path

from . import views

urlpatterns = [path("", views.rows, name="rows")]
