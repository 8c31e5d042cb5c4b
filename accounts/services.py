"""Account operations with a rule behind them."""

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.models import User, normalize_email


@dataclass(frozen=True)
class SeedResult:
    user: User
    created: bool
    changed: list[str]


@transaction.atomic
def superuser_seed(*, email, password=None, dry_run=False):
    """Create the first superuser, or bring an existing account up to superuser.

    Idempotent: a second run with the same input saves nothing. A password is required to
    create the account; for an existing one it is set only when it differs, so a rerun never
    rehashes (and never logs anyone out of other sessions).
    """
    email = normalize_email(email)
    user = User.objects.select_for_update().filter(email=email).first()
    created = user is None
    if created:
        if not password:
            raise ValueError("A password is needed to create the superuser.")
        user = User(email=email)
    changed = [
        flag for flag in ("is_staff", "is_superuser", "is_active") if not getattr(user, flag)
    ]
    for flag in changed:
        setattr(user, flag, True)
    if password and (created or not user.check_password(password)):
        validate_password(password, user)
        user.set_password(password)
        changed.append("password")
    if changed and not dry_run:
        user.save()
    return SeedResult(user=user, created=created, changed=changed)
