from django.contrib.auth import views as auth_views
from django.urls import path

from cases.page_cache import anonymous_page

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("profile/email/", views.email_change, name="email-change"),
    path("profile/email/<str:token>/", views.email_change_confirm, name="email-change-confirm"),
    path("signup/", views.signup, name="signup"),
    path("signup/<str:token>/", views.signup_invited, name="signup-invited"),
    path("signup/activate/<str:token>/", views.signup_activate, name="signup-activate"),
    # Shadows django.contrib.auth.urls' "login" (same path): the page a visitor with no session gets is the same for
    # all of them but for its CSRF token, so it is kept (cases/page_cache.py); a POST goes through to the view.
    path("login/", anonymous_page(auth_views.LoginView.as_view()), name="login-page"),
    # Shadows django.contrib.auth.urls' "password_reset" (included after this URLconf, same path): plain-text
    # e-mail, and a limit on how often it is sent.
    path("password_reset/", views.PasswordResetView.as_view(), name="password-reset"),
    # Shadows "password_reset_confirm" the same way: a new password lifts the login lock.
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
]
