"""What narrows a product list beyond search and category, and how a list is paged.

The filters are on variants: a price range, in stock, and option values (`Size: M`). A product
is listed when ONE of its active variants meets every one of them at once: "Size M in Blue, in
stock, up to $30" is a variant that is M, Blue, in stock and at most $30, not an M in Red and a
Blue in L. Several values of one option widen it (Size M or L); options narrow each other.
Option types and values are matched by name in any letter case, across products.

Counts per option value say how many products of the list, with every other filter applied,
have a variant with that value: what the list would hold with that value chosen in place of
the option's current choice. All of them come from one query, whatever the catalogue holds.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.db.models.functions import Lower

from catalog.models import OptionValue, ProductVariant, VariantOption

# The most option values one list may be filtered by (each option type is a subquery); more
# are left out, and so is a name longer than the columns hold (OptionType.name, OptionValue.value).
MAX_OPTION_CHOICES = 10
MAX_OPTION_TEXT = 50
OPTION_SEPARATOR = ":"  # option=Size:M; an option type named with a colon cannot be filtered on


@dataclass(frozen=True)
class OptionChoice:
    """One option value a list is filtered by, as the query string spelled it."""

    option: str
    value: str

    @classmethod
    def parse(cls, raw):
        """`Size:M` (spaces around either part dropped) or None for anything unusable."""
        option, separator, value = raw.partition(OPTION_SEPARATOR)
        option, value = " ".join(option.split()), " ".join(value.split())
        if not (separator and option and value) or "\x00" in raw:
            return None
        if len(option) > MAX_OPTION_TEXT or len(value) > MAX_OPTION_TEXT:
            return None
        return cls(option, value)

    @property
    def key(self):
        return self.option.lower(), self.value.lower()

    @property
    def param(self):
        return f"{self.option}{OPTION_SEPARATOR}{self.value}"


@dataclass(frozen=True)
class VariantFilters:
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    in_stock: bool = False
    # One per option value (any letter case), in the order of their `param`.
    options: tuple[OptionChoice, ...] = ()

    def __bool__(self):
        return bool(
            self.min_price is not None
            or self.max_price is not None
            or self.in_stock
            or self.options
        )

    def by_option(self):
        """{option type in lower case: [its chosen values in lower case]}."""
        chosen = {}
        for choice in self.options:
            option, value = choice.key
            chosen.setdefault(option, []).append(value)
        return chosen

    def variant_q(self, prefix=""):
        """The conditions on the variant itself: active, price range, stock."""
        q = Q(**{f"{prefix}is_active": True})
        if self.min_price is not None:
            q &= Q(**{f"{prefix}price__gte": self.min_price})
        if self.max_price is not None:
            q &= Q(**{f"{prefix}price__lte": self.max_price})
        if self.in_stock:
            q &= Q(**{f"{prefix}stock__gt": 0})
        return q


def _variants_with(option, values):
    """Ids of the variants with one of `values` for `option` (names in lower case, matched in
    any letter case): a subquery PostgreSQL runs once and hashes, not once per row."""
    chosen = OptionValue.objects.annotate(
        option_key=Lower("option_type__name"), value_key=Lower("value")
    ).filter(option_key=option, value_key__in=values)
    return VariantOption.objects.filter(value__in=chosen.values("pk")).values("variant_id")


def filter_products(products, filters):
    """`products` narrowed to those with one active variant that meets every filter."""
    if not filters:
        return products
    variants = ProductVariant.objects.filter(filters.variant_q(), product=OuterRef("pk"))
    for option, values in filters.by_option().items():
        variants = variants.filter(pk__in=_variants_with(option, values))
    return products.filter(Exists(variants))


@dataclass
class FacetValue:
    option: str
    value: str
    count: int
    chosen: bool = False
    key: tuple[str, str] = ("", "")  # (option, value) in lower case

    @property
    def param(self):
        return f"{self.option}{OPTION_SEPARATOR}{self.value}"


@dataclass
class Facet:
    option: str
    values: list[FacetValue] = field(default_factory=list)


def option_facets(products, filters):
    """The option values of the variants of `products` (the list before these filters), each
    with its count of products under the other filters, in one query: [Facet], the options in
    their usual order, each with its values in theirs. A value spelled in several ways
    (M, m) is shown in the spelling the database sorts first, and so is an option.

    A chosen value no product of the list has is added with a count of 0, so the shopper sees
    it and can take it off.
    """
    rows = VariantOption.objects.filter(
        filters.variant_q("variant__"), variant__product__in=products.values("pk")
    ).exclude(option_type__name__contains=OPTION_SEPARATOR)
    rows = rows.annotate(option_key=Lower("option_type__name"), value_key=Lower("value__value"))
    for option, values in filters.by_option().items():
        # Every option's own choice counts for the values of the other options only.
        rows = rows.filter(Q(option_key=option) | Q(variant__in=_variants_with(option, values)))
    rows = (
        rows.values("option_key", "value_key")
        .annotate(
            option_name=Min("option_type__name"),
            value_name=Min("value__value"),
            # A product offering fewer values (sizes L and XL only) numbers them from 0:
            # the highest position is the one in the fullest list (S, M, L, XL).
            option_position=Max("option_type__position"),
            value_position=Max("value__position"),
            products=Count("variant__product", distinct=True),
        )
        .order_by()
    )
    chosen = {choice.key for choice in filters.options}
    facets, positions = {}, {}
    for row in sorted(rows, key=lambda r: (r["value_position"], r["value_key"])):
        key = row["option_key"]
        if key not in facets:
            facets[key] = Facet(row["option_name"])
        positions[key] = max(positions.get(key, row["option_position"]), row["option_position"])
        facets[key].values.append(
            FacetValue(
                option=row["option_name"],
                value=row["value_name"],
                count=row["products"],
                chosen=(key, row["value_key"]) in chosen,
                key=(key, row["value_key"]),
            )
        )
    found = {value.key for facet in facets.values() for value in facet.values}
    for choice in filters.options:
        if choice.key not in found:
            option = choice.key[0]
            if option not in facets:
                facets[option] = Facet(choice.option)
                positions[option] = float("inf")
            facets[option].values.append(
                FacetValue(choice.option, choice.value, 0, chosen=True, key=choice.key)
            )
    return [facets[key] for key in sorted(facets, key=lambda k: (positions[k], k))]


class NumberedPage(Page):
    """A page that knows the page numbers to offer around it."""

    WINDOW = 2  # page numbers shown on each side of the current one

    @property
    def window(self):
        first = max(1, self.number - self.WINDOW)
        last = min(self.paginator.num_pages, self.number + self.WINDOW)
        return range(first, last + 1)

    @property
    def pages_before_window(self):
        return self.window.start > 1

    @property
    def pages_after_window(self):
        return self.window.stop <= self.paginator.num_pages


class NumberedPaginator(Paginator):
    def _get_page(self, *args, **kwargs):
        return NumberedPage(*args, **kwargs)
