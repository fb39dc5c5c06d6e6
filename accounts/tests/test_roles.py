"""The three groups and their permissions exist after migrate."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import GROUP_PERMISSIONS


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(GROUP_PERMISSIONS))
def test_group_exists_with_its_permissions(role):
    group = Group.objects.get(name=role)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert granted == set(GROUP_PERMISSIONS[role])


@pytest.mark.django_db
def test_only_editors_may_publish_or_edit_any_case(resident, faculty, editor):
    assert editor.has_perm("cases.publish_case") and editor.has_perm("cases.edit_any_case")
    assert not faculty.has_perm("cases.publish_case") and not faculty.has_perm("cases.edit_any_case")
    assert faculty.has_perm("cases.change_case") and faculty.is_staff
    assert not resident.has_perm("cases.change_case") and not resident.is_staff
