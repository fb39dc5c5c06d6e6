"""Cases a reader reviews again come back as unknowns: the hold lives in their session, not in their reveal.

The stored reveal (first answer, self-assessment) stays as it was; while a case is held, every page, fragment
and file that follows the reveal treats it as not revealed, until the reader reveals it again.
"""

from django.http import HttpRequest

SESSION_KEY = "cases_held_for_review"


def held_cases(request: HttpRequest) -> set[int]:
    """Return the ids of the cases this reader is reviewing as unknowns now."""
    return set(request.session.get(SESSION_KEY, []))


def hold(request: HttpRequest, case_id: int) -> None:
    """Show this case to the reader as an unknown again until they reveal it."""
    request.session[SESSION_KEY] = sorted(held_cases(request) | {case_id})


def release(request: HttpRequest, case_id: int) -> None:
    """End the review of this case as an unknown: its reveal counts again."""
    held = held_cases(request)
    if case_id in held:
        request.session[SESSION_KEY] = sorted(held - {case_id})
