"""The placeholder text of a draft made for its author (a study received from the PACS): the case's required
fields hold it until the author writes them, and the case is neither submitted nor published meanwhile."""

from .models import Case

PLACEHOLDERS = {
    "title": "Untitled case received from the PACS",
    "brief_history": "Write the brief history shown with the images.",
    "diagnosis": "Write the diagnosis.",
}


def case_placeholder_problems(case: Case) -> list[str]:
    """Return, for each required field still holding its placeholder, what the author must do."""
    return [
        f"Replace the placeholder {Case._meta.get_field(name).verbose_name} with your own text."
        for name, text in PLACEHOLDERS.items()
        if getattr(case, name, "").strip() == text
    ]
