"""Catalogue writes with a rule behind them: variants' stock, options and prices."""

import itertools
import math
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Max, Min, Value
from django.db.models.functions import Cast, Concat
from django.utils.text import slugify

from catalog.models import OptionType, OptionValue, Product, ProductVariant, VariantOption

# The most stock the column holds (a PostgreSQL integer); past it the UPDATE fails.
MAX_STOCK = 2_147_483_647
# A product's variants are edited on one back-office page, and Django refuses a form of more
# than DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000) fields: with a dozen fields a variant, 50 fit.
MAX_VARIANTS = 50
# Option types a product may have, and values an option type may have.
MAX_OPTION_TYPES = 5
MAX_OPTION_VALUES = MAX_VARIANTS
# What ProductVariant.label holds: "Size: M / Colour: Blue" must fit.
LABEL_LENGTH = ProductVariant._meta.get_field("label").max_length
LABEL_SEPARATOR = " / "


@dataclass(frozen=True)
class VariantSaveResult:
    # The stock found in the database when it differed from what the editor saw, else None.
    stock_adjusted_from: int | None = None
    # The editor's change would have taken the stock past MAX_STOCK, so it was set to that.
    stock_capped: bool = False


@transaction.atomic
def variant_save(
    *,
    variant: ProductVariant,
    changed_fields: list[str] | None = None,
    stock_seen: int | None = None,
) -> VariantSaveResult:
    """Save a variant edited by staff without undoing sales made while the form was open.

    Only the fields the editor changed are written. A stock edit is applied as the difference
    the editor made (seen 10, typed 15: +5) to the stock as it is now, under a row lock, so a
    checkout that took stock in the meantime is not overwritten. Stock never goes below zero,
    nor above MAX_STOCK: a restock that arrived meanwhile can take an edit that was in range
    when typed past what the column holds.
    """
    if variant.pk is None or changed_fields is None:
        variant.save()
        return VariantSaveResult()

    fields = [name for name in changed_fields if name != "stock"]
    adjusted_from = None
    capped = False
    if "stock" in changed_fields and stock_seen is not None:
        current = (
            ProductVariant.objects.select_for_update()
            .values_list("stock", flat=True)
            .get(pk=variant.pk)
        )
        if current != stock_seen:
            adjusted_from = current
        stock = max(current + variant.stock - stock_seen, 0)
        capped = stock > MAX_STOCK
        variant.stock = min(stock, MAX_STOCK)
        fields.append("stock")
    if fields:
        variant.save(update_fields=[*fields, "updated"])
    return VariantSaveResult(stock_adjusted_from=adjusted_from, stock_capped=capped)


def product_prices_refresh(*, product: Product) -> None:
    """Keep the product's "from" and "to" prices in step with its active variants."""
    prices = ProductVariant.objects.filter(product=product, is_active=True).aggregate(
        low=Min("price"), high=Max("price")
    )
    Product.objects.filter(pk=product.pk).update(price_min=prices["low"], price_max=prices["high"])
    product.price_min, product.price_max = prices["low"], prices["high"]


def combination_key(value_ids) -> str:
    """The variant's combination as stored: its option values' ids, sorted ("" for none)."""
    return "-".join(str(pk) for pk in sorted(value_ids))


@transaction.atomic
def variant_set_options(*, variant: ProductVariant, values: list[OptionValue]) -> None:
    """Give a variant exactly one value for each option type of its product.

    ValidationError for a value of another product, two values of one type, a type left out,
    or a combination another variant of the product already has (the unique constraint on
    the combination key is the database's word on that last one).
    """
    types = list(variant.product.option_types.all())
    by_type = {}
    for value in values:
        if value.option_type.product_id != variant.product_id:
            raise ValidationError(f"{value} is an option of another product.")
        if value.option_type_id in by_type:
            raise ValidationError(f"Choose one {value.option_type.name}, not two.")
        by_type[value.option_type_id] = value
    missing = [t.name for t in types if t.pk not in by_type]
    if missing:
        raise ValidationError(f"Choose a value for: {', '.join(missing)}.")
    key = combination_key(v.pk for v in values)
    taken = ProductVariant.objects.filter(product=variant.product, combination=key)
    if taken.exclude(pk=variant.pk).exists():
        raise ValidationError("This product already has a variant with these options.")
    VariantOption.objects.filter(variant=variant).delete()
    VariantOption.objects.bulk_create(
        VariantOption(variant=variant, option_type_id=type_id, value=value)
        for type_id, value in by_type.items()
    )
    variant.combination = key
    variant.label = variant_label(by_type.values())
    variant.save(update_fields=["combination", "label", "updated"])


def variant_label(values) -> str:
    """ "Size: M / Colour: Blue": option values in their types' order."""
    values = sorted(values, key=lambda v: (v.option_type.position, v.option_type_id))
    return LABEL_SEPARATOR.join(f"{v.option_type.name}: {v.value}" for v in values)


def label_length(options: list[tuple[str, list[str]]]) -> int:
    """The longest label variants can have with these (option name, [values]) pairs."""
    parts = [len(name) + 2 + max(map(len, values), default=0) for name, values in options]
    return sum(parts) + len(LABEL_SEPARATOR) * max(len(parts) - 1, 0)


def temporary_key() -> str:
    """A unique stand-in that is never a real combination key (digits and dashes) nor a value
    anyone types: held by a new variant until its options are written, or by an option value
    while it is renamed, so that two can trade names or combinations in one save."""
    return f"~{uuid.uuid4().hex}"


def product_lock(*, product_id: int) -> None:
    """Serialise writes to one product's options and variants (its back-office page, the
    generation of combinations): the product's row lock, until the transaction ends."""
    list(Product.objects.select_for_update().filter(pk=product_id).values_list("pk"))


@transaction.atomic
def product_variants_sync(
    *, product: Product, chosen: dict[int, list[OptionValue]] | None = None
) -> None:
    """Bring every variant of the product in line with its option types as they are now.

    Each variant keeps its values, except those given for it in `chosen` ({variant id:
    [values]}); values of option types that are gone are dropped, and an option type it has
    no value for (one just added) gives it its first value, so every variant keeps exactly one
    value per option. Combination keys and labels (after a rename or a new order) are written
    again where they changed, through temporary keys so that variants may trade combinations.
    ValidationError, with nothing written, when two variants would end up the same.
    """
    product_lock(product_id=product.pk)
    types = list(OptionType.objects.filter(product=product).prefetch_related("values"))
    values = {value.pk: value for t in types for value in t.values.all()}
    current = {}
    for variant_id, type_id, value_id in VariantOption.objects.filter(
        variant__product=product
    ).values_list("variant_id", "option_type_id", "value_id"):
        current.setdefault(variant_id, {})[type_id] = value_id
    variants = list(ProductVariant.objects.filter(product=product))
    plans = []
    for variant in variants:
        picks = dict(current.get(variant.pk, {}))
        for value in (chosen or {}).get(variant.pk, ()):
            picks[value.option_type_id] = value.pk
        final = []
        for option_type in types:
            value = values.get(picks.get(option_type.pk))
            if value is None or value.option_type_id != option_type.pk:
                value = next(iter(option_type.values.all()), None)
            if value is not None:
                final.append(value)
        plans.append((variant, final, combination_key(v.pk for v in final), variant_label(final)))
    seen = {}
    for variant, _, key, label in plans:
        if key in seen:
            raise ValidationError(
                f"Two variants would have the same options ({label or 'none'}): "
                f"{seen[key].sku} and {variant.sku}."
            )
        seen[key] = variant
    changed = [
        plan
        for plan in plans
        if (plan[2], plan[3]) != (plan[0].combination, plan[0].label)
        or {v.pk for v in plan[1]} != set(current.get(plan[0].pk, {}).values())
    ]
    if not changed:
        return
    moving = [variant.pk for variant, _, key, _ in changed if key != variant.combination]
    if moving:
        ProductVariant.objects.filter(pk__in=moving).update(
            combination=Concat(Value("~"), Cast("pk", output_field=CharField()))
        )
    for variant, _, key, label in changed:
        variant.combination, variant.label = key, label
    ProductVariant.objects.bulk_update([plan[0] for plan in changed], ["combination", "label"])
    VariantOption.objects.filter(variant__in=[plan[0] for plan in changed]).delete()
    VariantOption.objects.bulk_create(
        VariantOption(variant=variant, option_type_id=value.option_type_id, value=value)
        for variant, final, _, _ in changed
        for value in final
    )


def _values_in_use(values) -> dict[int, list[str]]:
    """{value id: SKUs of the variants using it} for those of `values` any variant uses."""
    used = {}
    for value_id, sku in (
        VariantOption.objects.filter(value__in=values)
        .order_by("variant__position", "variant_id")
        .values_list("value_id", "variant__sku")
    ):
        used.setdefault(value_id, []).append(sku)
    return used


@transaction.atomic
def option_values_set(*, option_type: OptionType, values: list[tuple[int | None, str]]) -> None:
    """Give an option type exactly these values, in this order.

    `values` is [(id, text)]: an id keeps that value (renamed to the text if it differs, so
    the variants using it keep it), None adds one. Values left out are deleted; ValidationError
    naming the variants when one still uses such a value (change those variants first). Labels
    are not written here: run product_variants_sync (or product_labels_refresh) afterwards.
    """
    existing = {value.pk: value for value in option_type.values.all()}
    kept = {pk for pk, _ in values if pk is not None}
    if kept - existing.keys():
        raise ValidationError("A value to keep is not one of this option's.")
    removed = [value for pk, value in existing.items() if pk not in kept]
    used = _values_in_use(removed)
    if used:
        value = next(v for v in removed if v.pk in used)
        raise ValidationError(
            f"{option_type.name} {value.value} is used by {', '.join(used[value.pk])}: "
            "give them another value first."
        )
    OptionValue.objects.filter(pk__in=[value.pk for value in removed]).delete()
    renamed = {pk for pk, text in values if pk is not None and existing[pk].value != text}
    for pk in renamed:  # out of each other's way first, so that S=M, M=S can swap
        OptionValue.objects.filter(pk=pk).update(value=temporary_key()[:50])
    for position, (pk, text) in enumerate(values):
        if pk is None:
            OptionValue.objects.create(option_type=option_type, value=text, position=position)
        elif pk in renamed or existing[pk].position != position:
            OptionValue.objects.filter(pk=pk).update(value=text, position=position)


def _price_to_copy(product: Product):
    prices = ProductVariant.objects.filter(product=product)
    return (
        prices.filter(is_active=True).aggregate(low=Min("price"))["low"]
        or prices.aggregate(low=Min("price"))["low"]
    )


def _free_skus(bases: list[str]) -> list[str]:
    """Each base cut to the column, or with -2, -3... when another variant (or an earlier base)
    has it."""
    length = ProductVariant._meta.get_field("sku").max_length
    bases = [base[:length] for base in bases]
    taken = set(ProductVariant.objects.filter(sku__in=bases).values_list("sku", flat=True))
    skus = []
    for base in bases:
        sku, n = base, 1
        while sku in taken or (n > 1 and ProductVariant.objects.filter(sku=sku).exists()):
            n += 1
            sku = f"{base[: length - len(str(n)) - 1].rstrip('-')}-{n}"
        taken.add(sku)
        skus.append(sku)
    return skus


@transaction.atomic
def product_variants_generate(*, product: Product) -> int:
    """Create a variant for every combination of the product's option values it lacks.

    Each new variant gets a SKU from the product's slug and its values (made unique), the
    product's lowest price (of its active variants, else of any) and stock 0, after the
    product's other variants. Returns how many were made: 0 for a product without options.
    ValidationError when a new variant would need a price and the product has none, when an
    option has no values, or when the product would pass MAX_VARIANTS.
    """
    product_lock(product_id=product.pk)
    types = list(OptionType.objects.filter(product=product).prefetch_related("values"))
    if not types:
        return 0
    for option_type in types:
        if not option_type.values.all():
            raise ValidationError(f"{option_type.name} has no values yet.")
    every = math.prod(len(t.values.all()) for t in types)
    existing = list(ProductVariant.objects.filter(product=product))
    have = {variant.combination for variant in existing}
    missing = []
    if every <= MAX_VARIANTS:
        missing = [
            combination
            for combination in itertools.product(*(t.values.all() for t in types))
            if combination_key(v.pk for v in combination) not in have
        ]
    if every > MAX_VARIANTS or len(existing) + len(missing) > MAX_VARIANTS:
        raise ValidationError(
            f"Every combination makes {every} variants, and a product has at most "
            f"{MAX_VARIANTS}: remove some values (or variants) first."
        )
    if not missing:
        return 0
    price = _price_to_copy(product)
    if price is None:
        raise ValidationError("It has no price to copy: give a variant a price first.")
    position = max((variant.position for variant in existing), default=-1) + 1
    skus = _free_skus(
        [
            "-".join([product.slug, *(slugify(v.value) or str(v.pk) for v in combination)]).upper()
            for combination in missing
        ]
    )
    made = [
        ProductVariant(
            product=product,
            sku=sku,
            price=price,
            stock=0,
            position=min(position + offset, 32767),
            combination=combination_key(v.pk for v in combination),
            label=variant_label(combination),
        )
        for offset, (sku, combination) in enumerate(zip(skus, missing, strict=True))
    ]
    ProductVariant.objects.bulk_create(made)
    VariantOption.objects.bulk_create(
        VariantOption(variant=variant, option_type_id=value.option_type_id, value=value)
        for variant, combination in zip(made, missing, strict=True)
        for value in combination
    )
    product_prices_refresh(product=product)
    return len(made)


@transaction.atomic
def product_labels_refresh(*, product: Product) -> None:
    """Write every variant's label again, after an option type or value was renamed or moved."""
    choices = VariantOption.objects.filter(variant__product=product).select_related(
        "option_type", "value"
    )
    by_variant = {}
    for choice in choices:
        by_variant.setdefault(choice.variant_id, []).append(choice.value)
    for variant in ProductVariant.objects.filter(product=product):
        label = variant_label(by_variant.get(variant.pk, []))
        if label != variant.label:
            ProductVariant.objects.filter(pk=variant.pk).update(label=label)


class NotThisProduct(ValueError):
    """A variant or option value that belongs to another product: a tampered form."""


def variant_choose(
    *, product: Product, variant_id: int | None = None, options: dict[int, int] | None = None
) -> ProductVariant | None:
    """The variant a shopper chose: by id, by one value per option type, or the product's only
    variant. None when the options make no variant of it (an impossible combination).

    The variant is returned with its product, whatever its stock or whether it is sold: the
    cart says why it cannot be added. NotThisProduct for ids of another product's variant or
    option value.
    """
    variants = ProductVariant.objects.select_related("product").filter(product=product)
    if variant_id is not None:
        variant = variants.filter(pk=variant_id).first()
        if variant is None:
            raise NotThisProduct("That choice is not one of this product's.")
        return variant
    options = options or {}
    if not options:
        only = list(variants[:2])
        return only[0] if len(only) == 1 and not only[0].combination else None
    known = dict(
        OptionValue.objects.filter(
            option_type__product=product, pk__in=options.values()
        ).values_list("pk", "option_type_id")
    )
    if any(known.get(value) != type_id for type_id, value in options.items()):
        raise NotThisProduct("Those options are not this product's.")
    return variants.filter(combination=combination_key(options.values())).first()
