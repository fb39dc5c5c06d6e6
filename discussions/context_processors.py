from django.utils.functional import SimpleLazyObject

from .models import Notification


def notifications(request) -> dict:
    """The count of unread notifications, queried only when a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: Notification.objects.unread().filter(user=user).count())}
