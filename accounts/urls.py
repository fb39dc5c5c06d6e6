from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("signup/", views.signup, name="signup"),
    path("signup/<str:token>/", views.signup_invited, name="signup-invited"),
    # Shadows django.contrib.auth.urls' "password_reset" (included after this URLconf, same path) to send the
    # e-mail from a .txt template: Django's default name ends in .html for what is plain text.
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(email_template_name="registration/password_reset_email.txt"),
        name="password-reset",
    ),
]
