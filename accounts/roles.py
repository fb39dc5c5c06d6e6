"""The three roles and the permissions each group carries."""

RESIDENT = "resident"
FACULTY = "faculty"
EDITOR = "editor"
# Shown for accounts outside the role groups: superusers, and accounts an administrator made without a role.
ADMINISTRATOR = "administrator"
READER = "reader"

_AUTHORING_MODELS = ["case", "series", "gate", "image", "casefinding", "differentialentry", "casereference"]
_TOPIC_MODELS = ["topic", "topicsection", "classificationsystem", "classificationgrade", "topicreference"]


def _crud(models: list[str], actions: tuple[str, ...]) -> list[str]:
    return [f"cases.{action}_{model}" for model in models for action in actions]


_QUIZ_MODELS = ["question", "option", "quiz", "quizquestion"]
_COLLECTION_MODELS = ["collection", "collectionentry"]

FACULTY_PERMISSIONS = [
    *_crud(_AUTHORING_MODELS, ("add", "change", "delete", "view")),
    *_crud(_TOPIC_MODELS, ("add", "change", "view")),
    *[f"quizzes.{action}_{model}" for model in _QUIZ_MODELS for action in ("add", "change", "delete", "view")],
    *[
        f"collections_app.{action}_{model}"
        for model in _COLLECTION_MODELS
        for action in ("add", "change", "delete", "view")
    ],
]
EDITOR_PERMISSIONS = [
    *FACULTY_PERMISSIONS,
    *_crud(_TOPIC_MODELS, ("delete",)),
    "cases.edit_any_case",
    "cases.publish_case",
    "quizzes.edit_any_quiz",
    "collections_app.edit_any_collection",
    # Invite residents (the link is e-mailed), see the invitations sent, and withdraw one.
    "accounts.add_invitation",
    "accounts.view_invitation",
    "accounts.delete_invitation",
    "discussions.moderate_comment",
    # Route the DICOM receiver's called AE titles to faculty authors.
    *[f"ingest.{action}_receiverroute" for action in ("add", "change", "delete", "view")],
]
GROUP_PERMISSIONS: dict[str, list[str]] = {
    RESIDENT: [],
    FACULTY: FACULTY_PERMISSIONS,
    EDITOR: EDITOR_PERMISSIONS,
}
STAFF_GROUPS = {FACULTY, EDITOR}


def role_of(user) -> str:
    """Return the role to show beside a person's name: their highest role group, never their own words.

    Reads ``user.groups.all()``: prefetch ``groups`` when showing many people.
    """
    groups = {group.name for group in user.groups.all()}
    for role in (EDITOR, FACULTY, RESIDENT):
        if role in groups:
            return role
    return ADMINISTRATOR if user.is_superuser else READER


def groups_sync(*, group_model, permission_model) -> None:
    """Create the role groups and give each exactly its permissions."""
    for name, codes in GROUP_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        permissions = [
            permission_model.objects.get(content_type__app_label=code.split(".")[0], codename=code.split(".")[1])
            for code in codes
        ]
        group.permissions.set(permissions)
