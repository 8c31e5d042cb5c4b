"""Account operations with a rule behind them: the superuser seed and the address book."""

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.models import Address, User, normalize_email


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


# The address book. Every change to a shopper's addresses starts by locking the shopper's row, so
# two requests at once (a double submit, two tabs, checkout saving an address) run one after the
# other: the cap is counted and the one default chosen with nobody else changing them meanwhile.
# FOR NO KEY UPDATE leaves the row free for writes that only need it to exist (an order's or a
# cart's foreign key), which FOR UPDATE would make wait.

ADDRESS_BOOK_LIMIT = 20
ADDRESS_FIELDS = ("label", *Address.SHIPPING_FIELDS)


class AddressBookFull(Exception):
    """The shopper already has ADDRESS_BOOK_LIMIT addresses."""

    def __init__(self, limit: int = ADDRESS_BOOK_LIMIT):
        super().__init__(
            f"Your address book is full: it holds up to {limit} addresses. "
            "Delete one you no longer use to add another."
        )


def _lock_address_book(user: User) -> None:
    User.objects.select_for_update(no_key=True).filter(pk=user.pk).first()


def _make_default(address: Address) -> None:
    # The others first: the partial unique index allows one default per shopper at any moment.
    Address.objects.filter(user_id=address.user_id, is_default=True).exclude(pk=address.pk).update(
        is_default=False
    )
    Address.objects.filter(pk=address.pk).update(is_default=True)
    address.is_default = True


def _address_fields(data: dict) -> dict:
    unknown = set(data) - set(ADDRESS_FIELDS)
    if unknown:
        raise TypeError(f"Not address fields: {', '.join(sorted(unknown))}")
    return data


@transaction.atomic
def address_add(*, user: User, data: dict, make_default: bool = False) -> Address:
    """Save a new address in the shopper's book; the first one (or any while none is the
    default) becomes the default. `data` holds validated ADDRESS_FIELDS. Raises AddressBookFull.
    """
    _lock_address_book(user)
    addresses = Address.objects.filter(user=user)
    if addresses.count() >= ADDRESS_BOOK_LIMIT:
        raise AddressBookFull()
    make_default = make_default or not addresses.filter(is_default=True).exists()
    address = Address.objects.create(user=user, **_address_fields(data))
    if make_default:
        _make_default(address)
    return address


@transaction.atomic
def address_update(*, address: Address, data: dict, make_default: bool = False) -> Address:
    """Change an address's fields (validated ADDRESS_FIELDS), and make it the default if asked.
    Unticking the default is not a change: a book with addresses always has a default.
    Raises Address.DoesNotExist when the address was deleted meanwhile."""
    _lock_address_book(address.user)
    if not Address.objects.filter(pk=address.pk).exists():
        raise Address.DoesNotExist()
    for field, value in _address_fields(data).items():
        setattr(address, field, value)
    address.save(update_fields=[*data])
    if make_default:
        _make_default(address)
    return address


@transaction.atomic
def address_set_default(*, address: Address) -> None:
    """Make this address its shopper's default, and no other.

    Raises Address.DoesNotExist when the address was deleted meanwhile (nothing changes then).
    """
    _lock_address_book(address.user)
    if not Address.objects.filter(pk=address.pk).exists():
        raise Address.DoesNotExist()
    _make_default(address)


@transaction.atomic
def address_delete(*, address: Address) -> None:
    """Delete an address; if it was the default, the newest remaining one becomes the default.
    Deleting an address already gone does nothing."""
    _lock_address_book(address.user)
    # Read again under the lock: another request may have made this one the default since.
    current = Address.objects.filter(pk=address.pk).first()
    if current is None:
        return
    current.delete()
    if current.is_default:
        newest = Address.objects.filter(user_id=current.user_id).order_by("-created", "-id")
        newest = newest.first()
        if newest is not None:
            _make_default(newest)


def _as_code(country) -> str:
    return str(getattr(country, "code", country) or "")


@transaction.atomic
def address_save_from_checkout(
    *, user: User, shipping: dict, make_default: bool = False
) -> Address | None:
    """Keep the address a shopper ordered to ("save this address" at checkout).

    `shipping` holds Address.SHIPPING_FIELDS as the checkout form cleaned them (other keys are
    ignored). An address in the book equal in every one of those fields (the country compared
    by its code) is returned instead of saving a copy, made the default if asked. Returns None,
    saving nothing, when the book is full.
    """
    _lock_address_book(user)
    values = {field: shipping.get(field) or "" for field in Address.SHIPPING_FIELDS}
    values["country"] = _as_code(values["country"])
    addresses = Address.objects.filter(user=user)
    existing = addresses.filter(**values).first()
    if existing is not None:
        if make_default and not existing.is_default:
            _make_default(existing)
        return existing
    if addresses.count() >= ADDRESS_BOOK_LIMIT:
        return None
    return address_add(user=user, data=values, make_default=make_default)
