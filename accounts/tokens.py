"""Signed, time-limited links e-mailed to an address: confirming a new e-mail address, activating an account.

Nothing is stored: the link carries what it confirms, signed with the site's secret key
(``django.core.signing``, salted per purpose so one kind of link never passes for the other).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core import signing

# As long as a password reset link (Django's PASSWORD_RESET_TIMEOUT): a weekend away from the inbox.
LINK_LIFETIME = timedelta(days=3)
_EMAIL_CHANGE = "accounts.tokens.email-change"
_ACTIVATION = "accounts.tokens.activation"


class LinkInvalid(Exception):
    """The link was altered or cut short, or it has expired."""


@dataclass(frozen=True)
class EmailChange:
    """A change of address asked for by a user: from ``old`` (what the account had then) to ``new``."""

    user_id: int
    old: str
    new: str


def email_change_token(*, user: AbstractBaseUser, email: str) -> str:
    """Return the token of a link confirming ``email`` as the user's new address."""
    return signing.dumps({"user": user.pk, "old": user.email, "new": email}, salt=_EMAIL_CHANGE, compress=True)


def email_change_read(*, token: str) -> EmailChange:
    """Return the change an e-mail change link confirms; raise ``LinkInvalid`` if it is not one, or too old."""
    data = _read(token, salt=_EMAIL_CHANGE)
    return EmailChange(user_id=data["user"], old=data["old"], new=data["new"])


def activation_token(*, user: AbstractBaseUser) -> str:
    """Return the token of a link activating a new account (proving its address)."""
    return signing.dumps({"user": user.pk}, salt=_ACTIVATION)


def activation_read(*, token: str) -> int:
    """Return the id of the account an activation link activates; raise ``LinkInvalid`` if it cannot."""
    return _read(token, salt=_ACTIVATION)["user"]


def _read(token: str, *, salt: str) -> dict:
    try:
        return signing.loads(token, salt=salt, max_age=LINK_LIFETIME)
    except signing.BadSignature as error:  # SignatureExpired included
        raise LinkInvalid("This link is not valid or has expired.") from error
