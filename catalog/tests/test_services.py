"""The catalogue's write rules for options and variants (catalog.services), on PostgreSQL."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from catalog.models import OptionType, OptionValue, ProductVariant, VariantOption
from catalog.services import (
    MAX_VARIANTS,
    option_values_set,
    product_variants_generate,
    product_variants_sync,
)
from catalog.tests.factories import ProductFactory, only_variant, product_with_options

pytestmark = pytest.mark.django_db


def values(option_type):
    return list(option_type.values.values_list("value", flat=True))


def labels(product):
    return sorted(ProductVariant.objects.filter(product=product).values_list("label", flat=True))


def test_option_values_set_keeps_renames_adds_reorders_and_deletes():
    shirt = product_with_options(options={"Size": ["S", "M", "L", "XXL"]})
    size = OptionType.objects.get(product=shirt)
    small, medium, large, xxl = size.values.all()
    ProductVariant.objects.filter(label__in=["Size: S", "Size: XXL"]).delete()

    option_values_set(
        option_type=size, values=[(large.pk, "L"), (medium.pk, "Medium"), (None, "XL")]
    )

    assert values(size) == ["L", "Medium", "XL"]
    assert size.values.get(value="Medium").pk == medium.pk
    assert size.values.get(value="L").pk == large.pk
    assert not OptionValue.objects.filter(pk__in=[small.pk, xxl.pk]).exists()


def test_option_values_set_refuses_to_delete_a_value_in_use():
    shirt = product_with_options(options={"Size": ["S", "M"]})
    size = OptionType.objects.get(product=shirt)
    small, _ = size.values.all()
    sku = shirt.variants.get(label="Size: M").sku

    with pytest.raises(ValidationError, match=f"Size M is used by {sku}"):
        option_values_set(option_type=size, values=[(small.pk, "S")])

    assert values(size) == ["S", "M"]


def test_two_values_can_trade_names():
    shirt = product_with_options(options={"Size": ["S", "M"]})
    size = OptionType.objects.get(product=shirt)
    small, medium = size.values.all()

    option_values_set(option_type=size, values=[(small.pk, "M"), (medium.pk, "S")])
    product_variants_sync(product=shirt)

    assert values(size) == ["M", "S"]
    assert shirt.variants.get(options__value=small).label == "Size: M"


def test_sync_gives_every_variant_the_first_value_of_a_new_option():
    product = ProductFactory(sku="TEE")
    size = OptionType.objects.create(product=product, name="Size")
    small = OptionValue.objects.create(option_type=size, value="S", position=0)
    OptionValue.objects.create(option_type=size, value="M", position=1)

    product_variants_sync(product=product)

    variant = only_variant(product)
    assert (variant.combination, variant.label) == (str(small.pk), "Size: S")
    assert list(variant.options.values_list("value", flat=True)) == [small.pk]


def test_sync_drops_an_option_that_is_gone_and_rewrites_the_keys():
    mug = product_with_options(options={"Size": ["S", "L"], "Colour": ["Red"]})
    OptionType.objects.filter(product=mug, name="Colour").delete()

    product_variants_sync(product=mug)

    sizes = {v.value: v.pk for v in OptionValue.objects.filter(option_type__product=mug)}
    keys = sorted(ProductVariant.objects.filter(product=mug).values_list("combination", flat=True))
    assert keys == sorted([str(sizes["S"]), str(sizes["L"])])
    assert labels(mug) == ["Size: L", "Size: S"]


def test_sync_lets_variants_trade_combinations():
    shirt = product_with_options(options={"Size": ["S", "M"]})
    small, medium = OptionType.objects.get(product=shirt).values.all()
    a, b = shirt.variants.get(label="Size: S"), shirt.variants.get(label="Size: M")

    product_variants_sync(product=shirt, chosen={a.pk: [medium], b.pk: [small]})

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.label, b.label) == ("Size: M", "Size: S")
    assert VariantOption.objects.get(variant=a).value == medium


def test_sync_refuses_two_variants_with_one_combination_and_writes_nothing():
    shirt = product_with_options(options={"Size": ["S", "M"]})
    small, _ = OptionType.objects.get(product=shirt).values.all()
    b = shirt.variants.get(label="Size: M")

    with pytest.raises(ValidationError, match="Two variants would have the same options"):
        product_variants_sync(product=shirt, chosen={b.pk: [small]})

    assert labels(shirt) == ["Size: M", "Size: S"]


def test_generate_makes_the_missing_combinations_with_unique_skus():
    shirt = product_with_options(
        name="Shirt", slug="shirt", options={"Size": ["S", "M"], "Colour": ["Sky blue", "日本"]}
    )
    ProductVariant.objects.filter(product=shirt).exclude(
        label="Size: S / Colour: Sky blue"
    ).delete()
    ProductFactory(sku="SHIRT-M-SKY-BLUE")  # another product's

    made = product_variants_generate(product=shirt)

    assert made == 3
    half = OptionValue.objects.get(value="日本")  # no letter a SKU can take: its id
    assert sorted(ProductVariant.objects.filter(product=shirt).values_list("sku", flat=True)) == [
        f"SHIRT-M-{half.pk}",
        "SHIRT-M-SKY-BLUE-2",
        f"SHIRT-S-{half.pk}",
        "shirt-0",
    ]
    assert product_variants_generate(product=shirt) == 0


def test_generated_skus_fit_the_column():
    product = product_with_options(slug="a" * 62, options={"Size": ["Small", "Medium"]})
    ProductVariant.objects.filter(product=product, label="Size: Medium").delete()

    product_variants_generate(product=product)

    assert product.variants.get(label="Size: Medium").sku == "A" * 62 + "-M"  # 64, cut


def test_generate_copies_the_lowest_active_price_else_any():
    mug = product_with_options(options={"Size": ["S", "M", "L"]}, price=Decimal("12.00"))
    ProductVariant.objects.filter(product=mug).exclude(label="Size: S").delete()
    ProductVariant.objects.filter(product=mug).update(is_active=False, price=Decimal("9.00"))

    product_variants_generate(product=mug)

    prices = set(mug.variants.exclude(label="Size: S").values_list("price", flat=True))
    assert prices == {Decimal("9.00")}
    mug.refresh_from_db()
    assert (mug.price_min, mug.price_max) == (Decimal("9.00"), Decimal("9.00"))


def test_generate_refuses_more_than_max_variants_before_making_any():
    product = product_with_options(options={"A": ["1"], "B": ["1"]})
    for name in ("A", "B"):
        option_type = OptionType.objects.get(product=product, name=name)
        OptionValue.objects.bulk_create(
            OptionValue(option_type=option_type, value=str(n), position=n) for n in range(2, 9)
        )  # 8 × 8 = 64 combinations

    with pytest.raises(ValidationError, match=f"at most {MAX_VARIANTS}"):
        product_variants_generate(product=product)

    assert product.variants.count() == 1


def test_generate_leaves_a_simple_product_alone():
    product = ProductFactory()
    assert product_variants_generate(product=product) == 0
    assert product.variants.count() == 1
