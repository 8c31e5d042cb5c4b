"""How the store signs shoppers in, and finds the signed-in shopper on every request."""

import contextlib
import contextvars

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from shop.compiled import compiled_once

# Where the user's id goes in _user_with_cart_count's statement: an id no user has.
USER_STAND_IN = -1

_cart_wanted = contextvars.ContextVar("cart_wanted", default=False)


@contextlib.contextmanager
def loading_cart():
    """Within it, a signed-in user loaded for the request comes with the contents of their cart
    as `loaded_cart` (Cart.shopper_with_contents): one statement, not two, for pages that
    show the cart."""
    token = _cart_wanted.set(True)
    try:
        yield
    finally:
        _cart_wanted.reset(token)


class ShopperBackend(ModelBackend):
    """ModelBackend, loading the signed-in user with the count of items in their cart (for the
    header, as `header_cart_count`) in one statement the ORM compiles once per database engine.

    Every page a signed-in shopper sees loads the user: building that query took the ORM longer
    than PostgreSQL took to run it, and the count was a second round trip.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            # Stop here: ModelBackend, listed after this one only so that sessions signed in
            # before it keep working, would check the password a second time.
            raise PermissionDenied
        return user

    def get_user(self, user_id):
        if _cart_wanted.get():
            user, contents = apps.get_model("cart", "Cart").shopper_with_contents(user_id)
            if user is not None:
                user.header_cart_count, user.loaded_cart = contents.count, contents
        else:
            sql, params = _user_with_cart_count(user_id)
            user = next(iter(get_user_model().objects.raw(sql, params)), None)
        return user if user is not None and self.user_can_authenticate(user) else None


@compiled_once(USER_STAND_IN)
def _user_with_cart_count() -> QuerySet:
    items = apps.get_model("cart", "CartItem").objects.filter(cart__user=OuterRef("pk"))
    count = items.values("cart__user").annotate(total=Sum("quantity")).values("total")
    users = (
        get_user_model()
        .objects.filter(pk=USER_STAND_IN)
        .annotate(
            header_cart_count=Coalesce(Subquery(count), Value(0), output_field=IntegerField())
        )
    )
    return users
