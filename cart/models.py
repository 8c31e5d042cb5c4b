"""Carts hold variants and quantities only: prices are always today's, read from the catalogue."""

import functools
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.db.models import Q

from catalog.models import Product, ProductVariant


@dataclass(frozen=True)
class CartContents:
    """A cart's lines at today's prices. What they cost with delivery, tax and a discount code
    is pricing.services.price's to say (the cart page estimates it, checkout fixes it)."""

    lines: list
    # The discount code kept on the cart (checked again whenever the cart is priced).
    voucher_code: str = ""
    # Everything the lines were read from, as text (every column of the lines, their variants
    # and products, and the code), where Cart.contents_of read them; None where it did not.
    # Pages that show the cart are kept under it (catalog.cache.cart_page).
    state: str | None = None

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
        return CartContents(list(self.items.with_products()), voucher_code=self.voucher_code)

    @staticmethod
    def contents_of(*, user=None, session_key=None):
        """The contents of the user's cart, else of the guest session's: what contents() reads,
        and the cart's discount code, in one statement; empty if the cart has no lines.

        The cart page and checkout read this on every view, and the ORM took longer to build
        and compile the statement than the database took to run it: it is written once per
        process (_lines_statement) and its rows made into the same objects the ORM makes.
        """
        owner, value = ("user", user.pk) if user is not None else ("session_key", session_key)
        return _read_lines(owner, value)[1]

    @staticmethod
    def shopper_with_contents(user_id):
        """The user with this id and the contents of their cart (as contents_of reads them), in
        one statement: (user, contents); (None, None) if there is no such user. For pages that
        show the cart, which would otherwise read the user and then the cart."""
        return _read_lines("shopper", user_id)

    @staticmethod
    def empty_contents():
        return CartContents([], state="")


class CartItemQuerySet(models.QuerySet):
    def with_products(self):
        """Lines as the cart page, pricing and checkout read them: with their variants and
        products (joined, not read line by line), oldest first."""
        return self.select_related("variant__product").order_by("added", "pk")


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(
        "catalog.ProductVariant", on_delete=models.CASCADE, related_name="+"
    )
    quantity = models.PositiveIntegerField()
    added = models.DateTimeField(auto_now_add=True)

    objects = CartItemQuerySet.as_manager()

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


# What each row of Cart.contents_of's statement holds, in order (then the cart's code).
_LINE_MODELS = (CartItem, ProductVariant, Product)
_LINE_COLUMNS = [
    (model, [field.attname for field in model._meta.concrete_fields]) for model in _LINE_MODELS
]


def _read_lines(owner, value):
    """Run _lines_statement for `owner`: (the user, or None where the owner is not "shopper";
    the cart's contents)."""
    sql, columns, converted = _lines_statement(connection.vendor, owner)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        rows = cursor.fetchall()
    if converted:
        rows = _convert(rows, _converters(columns))
    user = None
    if owner == "shopper":
        if not rows:
            return None, None
        model = get_user_model()
        names = [field.attname for field in model._meta.concrete_fields]
        user = model.from_db(connection.alias, names, rows[0][: len(names)])
        # A shopper with no cart, or an empty one, has a single row with no line in it.
        rows = [row[len(names) :] for row in rows if row[len(names)] is not None]
    if not rows:
        return user, Cart.empty_contents()
    db, lines = connection.alias, []
    for row in rows:
        objects, start = [], 0
        for model, names in _LINE_COLUMNS:
            objects.append(model.from_db(db, names, row[start : start + len(names)]))
            start += len(names)
        item, variant, product = objects
        variant.product = product
        item.variant = variant
        lines.append(item)
    return user, CartContents(lines, voucher_code=rows[0][-1], state=repr(rows))


def _convert(rows, converters):
    """The rows with each value passed through what the ORM would pass it through."""
    converted = []
    for row in rows:
        row = list(row)
        for i, expression, functions in converters:
            for function in functions:
                row[i] = function(row[i], expression, connection)
        converted.append(tuple(row))
    return converted


@functools.cache
def _lines_statement(vendor, owner):
    """Cart.contents_of's statement for carts found by `owner` ("user" or "session_key"),
    the fields of its columns (the lines' fields, their variants', their products', and last
    the cart's discount code), and whether this database's values need converting.

    Owner "shopper" finds the user by id and reads their fields first, then the lines of
    their cart, if any (a single row without a line if none).
    """
    q = connection.ops.quote_name

    def column(alias, model, name):
        return f"{alias}.{q(model._meta.get_field(name).column)}"

    def join(alias, model, on, kind="JOIN"):
        table, pk = q(model._meta.db_table), q(model._meta.pk.column)
        return f"{kind} {table} {alias} ON {alias}.{pk} = {on}"

    aliases = dict(zip(_LINE_MODELS, ("item", "variant", "product"), strict=True))
    fields = [
        *(field for model in _LINE_MODELS for field in model._meta.concrete_fields),
        Cart._meta.get_field("voucher_code"),
    ]
    order = f"ORDER BY {column('item', CartItem, 'added')}, {column('item', CartItem, 'id')}"
    if owner == "shopper":
        user_model = get_user_model()
        aliases[user_model] = "shopper"
        fields = [*user_model._meta.concrete_fields, *fields]
        cart_user = column("cart", Cart, "user")
        source = (
            f"{q(user_model._meta.db_table)} shopper "
            f"LEFT JOIN {q(Cart._meta.db_table)} cart "
            f"ON {cart_user} = shopper.{q(user_model._meta.pk.column)} "
            f"LEFT JOIN {q(CartItem._meta.db_table)} item "
            f"ON {column('item', CartItem, 'cart')} = cart.{q(Cart._meta.pk.column)} "
            f"{join('variant', ProductVariant, column('item', CartItem, 'variant'), 'LEFT JOIN')} "
            f"{join('product', Product, column('variant', ProductVariant, 'product'), 'LEFT JOIN')}"
        )
        where = f"shopper.{q(user_model._meta.pk.column)} = %s"
    else:
        source = (
            f"{q(CartItem._meta.db_table)} item "
            f"{join('cart', Cart, column('item', CartItem, 'cart'))} "
            f"{join('variant', ProductVariant, column('item', CartItem, 'variant'))} "
            f"{join('product', Product, column('variant', ProductVariant, 'product'))}"
        )
        where = f"{column('cart', Cart, owner)} = %s"
    selected = ", ".join(
        column(aliases.get(field.model, "cart"), field.model, field.name) for field in fields
    )
    # Names from the models; the only value is a parameter.
    sql = f"SELECT {selected} FROM {source} WHERE {where} {order}"  # noqa: S608
    return sql, fields, bool(_converters(fields))


def _converters(fields):
    """What the ORM passes each column's value through on this connection, where anything:
    [(position, column, functions)]. None for these fields on PostgreSQL; SQLite's, say, turn
    its text into Decimals and datetimes."""
    converters = []
    for position, field in enumerate(fields):
        col = field.get_col(field.model._meta.db_table)
        functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if functions:
            converters.append((position, col, functions))
    return converters
