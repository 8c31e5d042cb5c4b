"""The cart count in the header of every page."""

import functools

from cart.services import cart_count


def cart(request):
    # Templates call this lazily, and at most one query is made however often it is shown.
    # A view that already knows the count passes `cart_count` itself, which takes precedence.
    return {"cart_count": functools.cache(lambda: cart_count(request=request))}
