"""Signal receivers of the cart app."""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from cart.models import Cart
from cart.services import SESSION_CART_ID, cart_merge


@receiver(user_logged_in, dispatch_uid="cart.merge_guest_cart")
def merge_guest_cart(sender, request, user, **kwargs):
    """A guest who logs in keeps what they put in the cart: it joins their own cart."""
    if request is None or not hasattr(request, "session"):
        return
    cart_id = request.session.pop(SESSION_CART_ID, None)
    guest_cart = Cart.objects.filter(pk=cart_id, user__isnull=True).first() if cart_id else None
    if guest_cart is None:
        return
    for note in cart_merge(guest_cart=guest_cart, user=user):
        messages.warning(request, note, fail_silently=True)
