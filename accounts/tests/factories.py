"""Factories for accounts."""

import factory
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


class StaffFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))


def catalog_manager(**kwargs):
    return StaffFactory(groups=[CATALOG_MANAGERS], **kwargs)


def order_manager(**kwargs):
    return StaffFactory(groups=[ORDER_MANAGERS], **kwargs)
