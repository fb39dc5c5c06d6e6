"""The authentication backend: Django's, loading the profile with the user and its permissions from the cache."""

import secrets

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import router, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from teachingfile import cache_reads
from teachingfile.compiled_reads import CompiledRead

from .models import Profile

UserModel = get_user_model()
USER_FIELDS = [field.attname for field in UserModel._meta.concrete_fields]
PROFILE_FIELDS = [field.attname for field in Profile._meta.concrete_fields]
# The user of each request with their profile (a left join: a user may have none), by SQL compiled once.
_USER_WITH_PROFILE = CompiledRead(
    lambda pk: UserModel._default_manager.filter(pk=pk).values_list(
        *USER_FIELDS, *(f"profile__{name}" for name in PROFILE_FIELDS)
    ),
    -1,
)
VERSION_KEY = "permissions:version"
PERMISSION_SECONDS = 600


class ProfileModelBackend(ModelBackend):
    """Authenticate like ``ModelBackend``; the user of each request comes with its profile in the same query.

    Every page shows the user's display name in the header, so the profile is joined here rather than fetched by
    one more query per request, whose SQL is compiled once (``teachingfile.compiled_reads``). A user's permissions
    (two queries on every page that checks one) are kept in the cache under a version that any change of a user's
    groups or permissions, or of a group's, replaces; the key holds the user's active and superuser flags, which
    decide them too.
    """

    def get_user(self, user_id):
        using = router.db_for_read(UserModel)
        rows = _USER_WITH_PROFILE.rows(UserModel._meta.pk.to_python(user_id), using=using)
        if not rows:
            return None
        user = UserModel.from_db(using, USER_FIELDS, rows[0][: len(USER_FIELDS)])
        profile = rows[0][len(USER_FIELDS) :]
        if profile[0] is None:
            UserModel.profile.related.set_cached_value(user, None)  # as select_related leaves a user without one
        else:
            user.profile = Profile.from_db(using, PROFILE_FIELDS, profile)
        return user if self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)

    def get_all_permissions(self, user_obj, obj=None):
        if obj is not None or not user_obj.is_active or user_obj.is_anonymous:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            version = cache_reads.version(VERSION_KEY)  # None: the cache is unreachable, the database answers
            key = f"permissions:{version}:{user_obj.pk}:{user_obj.is_superuser:d}"
            permissions = cache_reads.cached(key) if version else None
            if permissions is None:
                permissions = super().get_all_permissions(user_obj)
                if version:
                    cache_reads.keep(key, permissions, PERMISSION_SECONDS)
            user_obj._perm_cache = permissions
        return user_obj._perm_cache


def permissions_changed(**_signal) -> None:
    """Make every cached permission set stale: now, and once more when the transaction commits."""
    cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, secrets.token_hex(8), timeout=None))


def connect_signals() -> None:
    """Report every change of who holds which permission (called by the accounts app when it is ready)."""
    for through in (UserModel.groups.through, UserModel.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(permissions_changed, sender=through, dispatch_uid=f"permissions-{through.__name__}")
    for model in (Group, Permission):
        post_save.connect(permissions_changed, sender=model, dispatch_uid=f"permissions-save-{model.__name__}")
        post_delete.connect(permissions_changed, sender=model, dispatch_uid=f"permissions-delete-{model.__name__}")
