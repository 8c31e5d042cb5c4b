"""The store's user: one account per email address, whatever its letter case."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_countries.fields import CountryField


def normalize_email(email):
    """`A@Example.com` and `a@example.com` name one mailbox in practice, so one account."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalize_email(email))

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField("full name", max_length=150, blank=True)
    is_staff = models.BooleanField(
        "staff status",
        default=False,
        help_text="Designates whether the user can log into the back office.",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Unselect this instead of deleting accounts, so past orders keep their customer.",
    )
    date_joined = models.DateTimeField("date joined", default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = "customer"
        verbose_name_plural = "customers"
        ordering = ["email"]
        constraints = [
            # Lower-case storage is what makes the unique index case-insensitive; the database
            # enforces it so no import, bulk write or admin edit can slip a duplicate past it.
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")),
                name="accounts_user_email_lowercase",
                violation_error_message="Email addresses are stored in lower case.",
            ),
        ]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


# The fields of a delivery address, saved in the address book and copied onto orders.
SHIPPING_FIELDS = (
    "full_name",
    "address_line1",
    "address_line2",
    "city",
    "postal_code",
    "region",
    "country",
    "phone",
)


def address_lines(address):
    """A delivery address (a saved one or an order's) as the lines of an envelope."""
    lines = [address.full_name, address.address_line1, address.address_line2]
    lines.append(" ".join(part for part in (address.postal_code, address.city) if part))
    lines += [address.region, address.country.name]
    return [line for line in lines if line]


class Address(models.Model):
    """An address in a signed-in shopper's address book, chosen at checkout."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(
        max_length=50, blank=True, help_text='Your own name for it, e.g. "Home" or "Office".'
    )
    full_name = models.CharField(max_length=150)
    address_line1 = models.CharField("address line 1", max_length=200)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postal_code = models.CharField(max_length=20)
    region = models.CharField("state / region", max_length=100, blank=True)
    country = CountryField()
    phone = models.CharField(max_length=32, blank=True)
    is_default = models.BooleanField("default address", default=False)
    created = models.DateTimeField(auto_now_add=True)

    SHIPPING_FIELDS = SHIPPING_FIELDS

    class Meta:
        ordering = ["-is_default", "-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default=True),
                name="accounts_address_one_default",
            ),
        ]

    def __str__(self):
        return self.label or f"{self.full_name}, {self.address_line1}, {self.city}"

    def as_shipping(self):
        return {field: getattr(self, field) for field in self.SHIPPING_FIELDS}

    @property
    def lines(self):
        return address_lines(self)
