from django.urls import path

from . import views

app_name = "quizzes"

urlpatterns = [
    path("", views.quiz_list, name="quiz-list"),
    path("progress/", views.progress, name="progress"),
    path("review/", views.review_queue, name="review-queue"),
    path("review/start/", views.review_start, name="review-start"),
    path("review/cases/<slug:number>/", views.review_case, name="review-case"),
    path("review/cases/<slug:number>/open/", views.review_case_open, name="review-case-open"),
    path("attempts/<int:pk>/", views.attempt_detail, name="attempt-detail"),
    path("attempts/<int:pk>/answer/", views.attempt_answer, name="attempt-answer"),
    path("attempts/<int:pk>/finish/", views.attempt_finish, name="attempt-finish"),
    path("attempts/<int:pk>/results/", views.attempt_results, name="attempt-results"),
    path("attempts/<int:pk>/questions/<int:question>/images/", views.question_images, name="question-images"),
    path("<slug:slug>/", views.quiz_detail, name="quiz-detail"),
    path("<slug:slug>/start/", views.quiz_start, name="quiz-start"),
]
