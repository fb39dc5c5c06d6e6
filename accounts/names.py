"""How a person is named on the site."""

from django.core.exceptions import ObjectDoesNotExist


def display_name(user) -> str:
    """Return the name to show for a user: the profile's display name, else the full name, else the username.

    Costs no query when the profile was loaded with the user: ``select_related("profile")`` on a user
    QuerySet, or ``select_related("author__profile")`` from a model pointing at the user. ``request.user``
    always comes with it (``accounts.backends.ProfileModelBackend``). Without it, the first call for each user
    costs one query.
    """
    if user is None or not getattr(user, "pk", None):
        return ""
    try:
        name = user.profile.display_name
    except ObjectDoesNotExist:
        name = ""
    return name or user.get_full_name() or user.get_username()
