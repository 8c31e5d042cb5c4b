"""Carts hold variants and quantities only: prices are always today's, read from the catalogue."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


@dataclass(frozen=True)
class CartContents:
    """A cart's lines at today's prices. What they cost with delivery, tax and a discount code
    is pricing.services.price's to say (the cart page estimates it, checkout fixes it)."""

    lines: list

    @property
    def count(self):
        return sum(line.quantity for line in self.lines)

    @property
    def subtotal(self):
        return sum((line.line_total for line in self.lines), Decimal("0.00"))

    @property
    def problems(self):
        return [line for line in self.lines if line.problem]

    @property
    def can_checkout(self):
        return bool(self.lines) and not self.problems


class Cart(models.Model):
    # A signed-in shopper's cart belongs to the user; a guest's to the session. Exactly one is set.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="cart",
    )
    session_key = models.CharField(max_length=40, null=True, blank=True, unique=True)
    # The discount code the shopper entered, checked again each time the cart is priced.
    voucher_code = models.CharField(max_length=40, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, session_key__isnull=True)
                    | Q(user__isnull=True, session_key__isnull=False)
                ),
                name="cart_cart_user_xor_session",
            ),
        ]
        indexes = [models.Index(fields=["updated"], name="cart_cart_updated_idx")]

    def __str__(self):
        return f"Cart of {self.user}" if self.user_id else f"Guest cart {self.pk}"

    def contents(self):
        """The lines with their variants and products (one query), today's prices and totals."""
        return CartContents(
            list(self.items.select_related("variant__product__category").order_by("added", "pk"))
        )

    @staticmethod
    def empty_contents():
        return CartContents([])


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cart", "variant"], name="cart_item_one_line_per_variant"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_item_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.variant}"

    @property
    def product(self):
        return self.variant.product

    @property
    def line_total(self):
        return self.variant.price * self.quantity

    @property
    def problem(self):
        """Why this line cannot be checked out as it is, or None."""
        variant = self.variant
        if not (variant.is_active and variant.product.is_active):
            return "This product is no longer sold. Remove it to check out."
        if variant.stock == 0:
            return "Out of stock. Remove it to check out."
        if self.quantity > variant.stock:
            return f"Only {variant.stock} left. Lower the quantity to check out."
        return None
