"""Factories for accounts."""

import importlib

import factory
from django.apps import apps
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import CATALOG_MANAGERS, ORDER_MANAGERS

PASSWORD = "plum-tart-on-a-sunday"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


# The data migrations that create the staff groups and grant their permissions, with the function
# each runs. A transactional test's flush empties the groups; running these again restores them.
ROLE_MIGRATIONS = [
    ("accounts.migrations.0002_staff_groups", "create_groups"),
    ("catalog.migrations.0002_catalog_managers_permissions", "grant"),
    ("orders.migrations.0002_order_managers_permissions", "grant"),
    ("payments.migrations.0002_order_managers_permissions", "grant"),
    ("shop.migrations.0002_order_managers_permissions", "grant"),
    ("shop.pages.migrations.0003_catalog_managers_permissions", "grant"),
    ("pricing.migrations.0003_managers_permissions", "grant"),
    ("accounts.migrations.0004_order_managers_addresses", "grant"),
]


def ensure_staff_groups():
    for module, function in ROLE_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)


class StaffFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            ensure_staff_groups()
            self.groups.set(Group.objects.filter(name__in=extracted))


def catalog_manager(**kwargs):
    return StaffFactory(groups=[CATALOG_MANAGERS], **kwargs)


def order_manager(**kwargs):
    return StaffFactory(groups=[ORDER_MANAGERS], **kwargs)
