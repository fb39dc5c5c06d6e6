from django.conf import settings


def signup(request) -> dict:
    """Whether pages may offer open sign-up (``TEACHINGFILE_OPEN_SIGNUP``)."""
    return {"open_signup": settings.TEACHINGFILE_OPEN_SIGNUP}
