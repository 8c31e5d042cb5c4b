"""Catalogue writes with a rule behind them."""

from dataclasses import dataclass

from django.db import transaction

from catalog.models import Product

# The most stock the column holds (a PostgreSQL integer); past it the UPDATE fails.
MAX_STOCK = 2_147_483_647


@dataclass(frozen=True)
class ProductSaveResult:
    # The stock found in the database when it differed from what the editor saw, else None.
    stock_adjusted_from: int | None = None
    # The editor's change would have taken the stock past MAX_STOCK, so it was set to that.
    stock_capped: bool = False


@transaction.atomic
def product_save(*, product, changed_fields=None, stock_seen=None):
    """Save a product edited by staff without undoing sales made while the form was open.

    Only the fields the editor changed are written. A stock edit is applied as the difference
    the editor made (seen 10, typed 15: +5) to the stock as it is now, under a row lock, so a
    checkout that took stock in the meantime is not overwritten. Stock never goes below zero,
    nor above MAX_STOCK: a restock that arrived meanwhile can take an edit that was in range
    when typed past what the column holds.
    """
    if product.pk is None or changed_fields is None:
        product.save()
        return ProductSaveResult()

    fields = [name for name in changed_fields if name != "stock"]
    adjusted_from = None
    capped = False
    if "stock" in changed_fields and stock_seen is not None:
        current = (
            Product.objects.select_for_update().values_list("stock", flat=True).get(pk=product.pk)
        )
        if current != stock_seen:
            adjusted_from = current
        stock = max(current + product.stock - stock_seen, 0)
        capped = stock > MAX_STOCK
        product.stock = min(stock, MAX_STOCK)
        fields.append("stock")
    if fields:
        product.save(update_fields=[*fields, "updated"])
    return ProductSaveResult(stock_adjusted_from=adjusted_from, stock_capped=capped)
