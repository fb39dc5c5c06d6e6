"""The authentication backend: Django's, loading the profile with the user."""

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

UserModel = get_user_model()


class ProfileModelBackend(ModelBackend):
    """Authenticate like ``ModelBackend``; the user of each request comes with its profile in the same query.

    Every page shows the user's display name in the header, so the profile is joined here rather than
    fetched by one more query per request.
    """

    def get_user(self, user_id):
        try:
            user = UserModel._default_manager.select_related("profile").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)
