"""The catalogue back office: who may do what, uploads, actions, options and variants, and safe
stock edits. Everything goes through the admin pages, as staff use them."""

import re
import threading
from decimal import Decimal

import pytest
from django import forms
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse

from accounts.tests.factories import catalog_manager, order_manager
from catalog.models import (
    CatalogVersion,
    Category,
    OptionType,
    OptionValue,
    Product,
    ProductImage,
    ProductVariant,
)
from catalog.services import MAX_VARIANTS, product_lock, variant_set_options
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    VariantFactory,
    image_upload,
    only_variant,
    product_with_options,
)
from orders.tests.factories import place_order
from orders.tests.locks import backend_pid, wait_for
from shop.tests.outbox import deliver_queued

pytestmark = pytest.mark.django_db

ADD = "admin:catalog_product_add"
CHANGELIST = "admin:catalog_product_changelist"


def change_url(product):
    return reverse("admin:catalog_product_change", args=[product.pk])


def _form_data(form):
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        key = form.add_prefix(name)
        if isinstance(field, forms.BooleanField):
            if value:
                data[key] = "on"
        elif isinstance(field, forms.FileField):
            continue
        else:
            data[key] = "" if value is None else str(value)
    return data


def page_data(response):
    """The product page's form as a browser submits it untouched: the product's fields and
    every inline's rows and management form (whatever inlines the page has)."""
    assert response.status_code == 200
    data = _form_data(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.forms:
            data.update(_form_data(form))
    return data


def variant_row(data, variant):
    """The prefix of the variant's row in page data ("variants-0")."""
    [prefix] = [key[: -len("-id")] for key, value in data.items() if key.startswith("variants-")
                and key.endswith("-id") and value == str(variant.pk)]  # fmt: skip
    return prefix


def option_row(data, option_type):
    [prefix] = [key[: -len("-id")] for key, value in data.items() if key.startswith("option_types-")
                and key.endswith("-id") and value == str(option_type.pk)]  # fmt: skip
    return prefix


def add_row(data, prefix, **fields):
    """Add a row to an inline ("variants", "option_types") as "Add another" does."""
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = str(n + 1)
    data.update({f"{prefix}-{n}-{name}": value for name, value in fields.items()})
    return data


def option_field(option_type):
    return f"option_{option_type.pk}"


def value_of(product, type_name, value):
    return OptionValue.objects.get(
        option_type__product=product, option_type__name=type_name, value=value
    )


def variant_with(product, **values):
    """The product's variant with these values: variant_with(shirt, Size="S", Colour="Red")."""
    keys = sorted(value_of(product, name, v).pk for name, v in values.items())
    return ProductVariant.objects.get(product=product, combination="-".join(map(str, keys)))


def inline_formset(response, prefix):
    [formset] = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == prefix
    ]
    return formset


def new_product_data(client, category, **overrides):
    """The add page filled in for a simple product, Copper kettle KET-1 at 45.00, stock 12."""
    data = page_data(client.get(reverse(ADD)))
    data.update(
        {
            "name": "Copper kettle",
            "slug": "copper-kettle",
            "category": str(category.pk),
            "description": "Boils water.",
            "is_active": "on",
            "variants-0-sku": "KET-1",
            "variants-0-price": "45.00",
            "variants-0-stock": "12",
            "variants-0-is_active": "on",
            "variants-0-position": "0",
        }
    )
    data.update(overrides)
    return data


@pytest.fixture
def manager_client(client):
    client.force_login(catalog_manager())
    return client


@pytest.fixture
def shirt():
    """Size S, M, L and Colour Red, Blue: six variants at 20.00, stock 5 each."""
    return product_with_options(name="Shirt", slug="shirt")


# Products: who may, uploads, bad values, the list.


def test_catalog_managers_create_a_product_with_its_variant_and_a_picture(manager_client):
    category = CategoryFactory()
    data = new_product_data(
        manager_client,
        category,
        **{"pictures-0-image": image_upload(), "pictures-0-alt": "The kettle from the front"},
    )

    response = manager_client.post(reverse(ADD), data)

    assert response.status_code == 302
    product = Product.objects.get(slug="copper-kettle")
    variant = only_variant(product)
    assert (variant.sku, variant.price, variant.stock) == ("KET-1", Decimal("45.00"), 12)
    assert (variant.combination, variant.label) == ("", "")
    assert (product.price_min, product.price_max) == (Decimal("45.00"), Decimal("45.00"))
    picture = product.pictures.get()
    assert picture.image.name.startswith("products/")
    assert picture.image.name.endswith(".png")
    assert (picture.alt, picture.position) == ("The kettle from the front", 0)
    detail = manager_client.get(change_url(product))
    assert picture.image.url in detail.content.decode()  # its preview, until its renditions


def test_the_product_list_shows_each_products_first_picture_as_a_thumbnail(manager_client):
    kettle = ProductFactory(name="Copper kettle")
    ProductImage.objects.create(
        product=kettle, image=image_upload("side.png", size=(800, 600)), position=1
    )
    front = ProductImage.objects.create(product=kettle, image=image_upload("front.png"))
    ProductFactory(name="Bare shelf")
    deliver_queued()  # the renditions
    front.refresh_from_db()
    [smallest] = [file for file in front.renditions["files"] if file["format"] == "PNG"]

    html = manager_client.get(reverse(CHANGELIST)).content.decode()

    thumbnails = re.findall(r'<img src="([^"]+)" alt="" class="admin-thumb"[^>]*>', html)
    assert thumbnails == [default_storage.url(smallest["name"])]
    assert 'width="48" height="36"' in html


def test_the_inlines_inputs_are_named_by_their_columns(manager_client, shirt):
    html = manager_client.get(change_url(shirt)).content.decode()

    def named(field):
        [tag] = re.findall(rf'<(?:input|select)[^>]*name="{field}"[^>]*>', html)
        return re.search(r'aria-label="([^"]*)"', tag)[1]

    size = shirt.option_types.get(name="Size")
    assert named("option_types-0-values") == "Values"
    assert named("variants-0-sku") == "SKU"
    assert named(f"variants-0-{option_field(size)}") == "Size"
    assert named("variants-0-DELETE") == "Delete"
    assert named("pictures-0-image") == "Picture"
    assert named("pictures-0-variant") == "Variant"  # inside the admin's "+" wrapper


def test_catalog_managers_edit_and_delete_products_and_categories(manager_client):
    product = ProductFactory()
    category = CategoryFactory()

    listing = manager_client.get(reverse(CHANGELIST))
    delete = manager_client.post(
        reverse("admin:catalog_product_delete", args=[product.pk]), {"post": "yes"}
    )
    add_category = manager_client.post(
        reverse("admin:catalog_category_add"), {"name": "Bath", "slug": "bath"}
    )
    edit_category = manager_client.post(
        reverse("admin:catalog_category_change", args=[category.pk]),
        {"name": "Renamed", "slug": category.slug},
    )

    assert listing.status_code == 200
    assert delete.status_code == 302
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not ProductVariant.objects.filter(product_id=product.pk).exists()
    assert add_category.status_code == 302
    assert Category.objects.filter(slug="bath").exists()
    assert edit_category.status_code == 302
    category.refresh_from_db()
    assert category.name == "Renamed"


def test_order_managers_cannot_see_or_change_the_catalogue(client, manager_client):
    product = ProductFactory(name="Original")
    data = page_data(manager_client.get(change_url(product)))
    client.force_login(order_manager())

    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(reverse("admin:catalog_category_changelist")).status_code == 403
    change = client.post(change_url(product), {**data, "name": "Changed"})
    generate = client.post(reverse("admin:catalog_product_generate_variants", args=[product.pk]))

    assert change.status_code == 403
    assert generate.status_code == 403
    product.refresh_from_db()
    assert product.name == "Original"


def test_product_list_shows_price_range_variants_and_stock(manager_client, shirt):
    ProductFactory(name="Copper kettle", sku="KET-1", price=Decimal("45.00"), stock=0)
    ProductVariant.objects.filter(pk=variant_with(shirt, Size="L", Colour="Blue").pk).update(
        price=Decimal("24.00"), is_active=False, stock=100
    )
    ProductVariant.objects.filter(pk=variant_with(shirt, Size="L", Colour="Red").pk).update(
        price=Decimal("22.00")
    )
    manager_client.post(change_url(shirt), page_data(manager_client.get(change_url(shirt))))

    listing = manager_client.get(reverse(CHANGELIST))

    rows = {p.name: p for p in listing.context["cl"].result_list}
    assert (rows["Shirt"].variant_count, rows["Shirt"].total_stock) == (6, 25)  # active only
    assert (rows["Copper kettle"].variant_count, rows["Copper kettle"].total_stock) == (1, 0)
    html = listing.content.decode()
    for column in ("Price", "Variants", "Stock (active variants)", "Category", "Active"):
        assert column in html
    assert "$20.00 – $22.00" in html  # the inactive variant's 24.00 is not sold
    assert "$45.00" in html


def test_product_list_search_by_variant_sku_lists_each_product_once(manager_client, shirt):
    ProductFactory(name="Copper kettle", sku="KET-1")

    by_sku = manager_client.get(reverse(CHANGELIST), {"q": "shirt-"})  # all six SKUs match
    by_one_sku = manager_client.get(reverse(CHANGELIST), {"q": "KET-1"})
    by_name = manager_client.get(reverse(CHANGELIST), {"q": "kettle"})

    assert [p.name for p in by_sku.context["cl"].result_list] == ["Shirt"]
    assert [p.name for p in by_one_sku.context["cl"].result_list] == ["Copper kettle"]
    assert [p.name for p in by_name.context["cl"].result_list] == ["Copper kettle"]


def test_product_list_filters_by_stock_activity_and_category(manager_client, shirt):
    kettles = CategoryFactory(name="Kettles", slug="kettles")
    ProductFactory(name="Copper kettle", category=kettles, stock=0)
    ProductFactory(name="Old kettle", category=kettles, is_active=False)
    # A variant in stock that is not sold does not make its product in stock.
    ProductFactory(name="Hidden stock", variant__is_active=False, stock=9)

    def names(**params):
        listing = manager_client.get(reverse(CHANGELIST), params)
        return sorted(p.name for p in listing.context["cl"].result_list)

    assert names(stock="out") == ["Copper kettle", "Hidden stock"]
    assert names(stock="in") == ["Old kettle", "Shirt"]
    assert names(is_active__exact="0") == ["Old kettle"]
    assert names(category__id__exact=kettles.pk) == ["Copper kettle", "Old kettle"]


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("notes.png", b"just some text, not a picture", "image/png"),
            "Upload a valid image",
        ),
        (image_upload("photo.bmp", "BMP"), "not accepted"),
        (image_upload("huge.png", size=(6001, 10)), "the limit is 6000"),
    ],
    ids=["text-renamed-png", "bmp", "too-wide"],
)
def test_bad_image_uploads_are_refused_with_a_message(manager_client, upload, message):
    data = new_product_data(manager_client, CategoryFactory(), **{"pictures-0-image": upload})

    response = manager_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Product.objects.exists()


def test_an_image_over_the_size_limit_is_refused(manager_client, settings):
    settings.MAX_IMAGE_UPLOAD_BYTES = 100
    data = new_product_data(
        manager_client, CategoryFactory(), **{"pictures-0-image": image_upload(size=(200, 200))}
    )

    response = manager_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert "the limit is 100" in response.content.decode()
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("price", "0"), ("price", "-5"), ("price", "abc"), ("stock", "-1"), ("sku", "")],
)
def test_bad_variant_values_give_the_form_back(manager_client, field, value):
    data = new_product_data(manager_client, CategoryFactory(), **{f"variants-0-{field}": value})

    response = manager_client.post(reverse(ADD), data)

    assert response.status_code == 200
    assert inline_formset(response, "variants").errors[0][field]
    assert not Product.objects.exists()


def test_a_sku_another_product_has_is_refused(manager_client):
    ProductFactory(sku="KET-1")

    response = manager_client.post(
        reverse(ADD), new_product_data(manager_client, CategoryFactory())
    )

    assert response.status_code == 200
    assert "SKU already exists" in response.content.decode()
    assert Product.objects.count() == 1


def test_a_product_keeps_at_least_one_variant(manager_client):
    product = ProductFactory()
    data = page_data(manager_client.get(change_url(product)))
    data[f"{variant_row(data, only_variant(product))}-DELETE"] = "on"

    response = manager_client.post(change_url(product), data)

    assert response.status_code == 200
    assert "A product needs at least one variant" in response.content.decode()
    assert ProductVariant.objects.filter(product=product).count() == 1


def test_a_product_without_options_cannot_take_a_second_variant(manager_client):
    product = ProductFactory()
    data = add_row(
        page_data(manager_client.get(change_url(product))),
        "variants",
        sku="KET-2",
        price="5.00",
        stock="1",
        is_active="on",
        position="1",
    )

    response = manager_client.post(change_url(product), data)

    assert response.status_code == 200
    assert "A product without options has one variant" in response.content.decode()
    assert ProductVariant.objects.filter(product=product).count() == 1


def test_a_product_cannot_grow_past_the_most_variants_a_page_can_hold(manager_client):
    sizes = [f"S{n}" for n in range(MAX_VARIANTS // 2)]
    product = product_with_options(
        name="Ring", slug="ring", options={"Size": sizes, "Colour": ["Red", "Blue"]}
    )
    assert ProductVariant.objects.filter(product=product).count() == MAX_VARIANTS
    size = OptionType.objects.get(product=product, name="Size")
    colour = OptionType.objects.get(product=product, name="Colour")
    green = OptionValue.objects.create(option_type=colour, value="Green", position=2)
    data = page_data(manager_client.get(change_url(product)))
    add_row(
        data,
        "variants",
        sku="RING-S0-GREEN",
        price="20.00",
        stock="1",
        is_active="on",
        position="99",
        **{option_field(size): str(value_of(product, "Size", "S0").pk),
           option_field(colour): str(green.pk)},
    )  # fmt: skip

    refused = manager_client.post(change_url(product), data)

    assert refused.status_code == 200
    assert f"A product has at most {MAX_VARIANTS} variants." in refused.content.decode()
    assert ProductVariant.objects.filter(product=product).count() == MAX_VARIANTS
    # One that came in with more (an import) can still be edited, as long as it does not grow.
    variant_set_options(
        variant=VariantFactory(product=product, sku="RING-S0-GREEN"),
        values=[value_of(product, "Size", "S0"), green],
    )
    data = page_data(manager_client.get(change_url(product)))
    data["name"] = "Silver ring"
    assert manager_client.post(change_url(product), data).status_code == 302
    assert Product.objects.get(pk=product.pk).name == "Silver ring"


def test_bulk_activate_and_deactivate(manager_client):
    products = ProductFactory.create_batch(3, is_active=True)
    selected = [p.pk for p in products[:2]]

    manager_client.post(reverse(CHANGELIST), {"action": "deactivate", "_selected_action": selected})
    assert set(Product.objects.filter(is_active=False).values_list("pk", flat=True)) == set(
        selected
    )

    manager_client.post(reverse(CHANGELIST), {"action": "activate", "_selected_action": selected})
    assert Product.objects.filter(is_active=True).count() == 3


def test_a_product_whose_variant_was_ordered_cannot_be_deleted_and_deactivation_is_offered(
    manager_client, shirt
):
    place_order([(variant_with(shirt, Size="M", Colour="Blue"), 1)])
    url = reverse("admin:catalog_product_delete", args=[shirt.pk])

    page = manager_client.get(url)
    manager_client.post(url, {"post": "yes"})

    assert "deactivate it instead" in page.content.decode()
    assert ProductVariant.objects.filter(product=shirt).count() == 6
    manager_client.post(
        reverse(CHANGELIST), {"action": "deactivate", "_selected_action": [shirt.pk]}
    )
    assert not Product.objects.get(pk=shirt.pk).is_active


def test_a_variant_that_was_ordered_cannot_be_deleted_from_the_product_page(manager_client, shirt):
    ordered = variant_with(shirt, Size="M", Colour="Blue")
    place_order([(ordered, 1)])
    data = page_data(manager_client.get(change_url(shirt)))
    data[f"{variant_row(data, ordered)}-DELETE"] = "on"

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    assert f"{ordered.sku} has been ordered, so it stays on record" in response.content.decode()
    assert ProductVariant.objects.filter(pk=ordered.pk).exists()


def test_a_variant_never_ordered_can_be_deleted(manager_client, shirt):
    gone = variant_with(shirt, Size="M", Colour="Blue")
    data = page_data(manager_client.get(change_url(shirt)))
    data[f"{variant_row(data, gone)}-DELETE"] = "on"

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 302
    assert not ProductVariant.objects.filter(pk=gone.pk).exists()
    assert ProductVariant.objects.filter(product=shirt).count() == 5


def test_a_picture_of_a_variant_deleted_on_the_same_page_is_kept_without_it(manager_client, shirt):
    gone = variant_with(shirt, Size="M", Colour="Blue")
    data = page_data(manager_client.get(change_url(shirt)))
    data[f"{variant_row(data, gone)}-DELETE"] = "on"
    data.update({"pictures-0-image": image_upload(), "pictures-0-variant": str(gone.pk)})

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 302
    assert not ProductVariant.objects.filter(pk=gone.pk).exists()
    [picture] = ProductImage.objects.filter(product=shirt)
    assert picture.variant_id is None
    connection.check_constraints()  # no row points at a variant that is gone


# Option types and their values.


def test_options_are_added_with_their_values_in_order(manager_client):
    product = ProductFactory(sku="TEE")
    data = add_row(
        page_data(manager_client.get(change_url(product))),
        "option_types",
        name="Size",
        values=" S, M ,L, ",
        position="0",
    )

    response = manager_client.post(change_url(product), data)

    assert response.status_code == 302
    size = OptionType.objects.get(product=product)
    assert [v.value for v in size.values.all()] == ["S", "M", "L"]
    # The product's one variant takes the first value, so every variant has one of each.
    variant = only_variant(product)
    small = value_of(product, "Size", "S")
    assert (variant.label, variant.combination) == ("Size: S", str(small.pk))
    data = page_data(manager_client.get(change_url(product)))
    assert data[f"{variant_row(data, variant)}-{option_field(size)}"] == str(small.pk)


def test_a_new_product_takes_its_options_and_its_first_variant_in_one_save(manager_client):
    data = new_product_data(manager_client, CategoryFactory())
    add_row(data, "option_types", name="Size", values="S, M", position="0")
    add_row(data, "option_types", name="Colour", values="Red", position="1")

    response = manager_client.post(reverse(ADD), data)

    assert response.status_code == 302
    product = Product.objects.get(slug="copper-kettle")
    assert only_variant(product).label == "Size: S / Colour: Red"


def test_an_option_name_with_a_colon_is_refused(manager_client, shirt):
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    data[f"{option_row(data, size)}-name"] = "Size: EU"

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    assert "An option&#x27;s name cannot hold a colon." in response.content.decode()
    size.refresh_from_db()
    assert size.name == "Size"


def test_renaming_a_value_keeps_it_and_refreshes_the_labels(manager_client, shirt):
    medium = value_of(shirt, "Size", "M")
    variant = variant_with(shirt, Size="M", Colour="Red")
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    assert data[f"{option_row(data, size)}-values"] == "S, M, L"
    data[f"{option_row(data, size)}-values"] = "S, M=Medium, L"

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 302
    medium.refresh_from_db()
    assert medium.value == "Medium"
    variant.refresh_from_db()
    assert variant.label == "Size: Medium / Colour: Red"
    assert list(size.values.values_list("value", flat=True)) == ["S", "Medium", "L"]


def test_renaming_and_reordering_options_refreshes_the_labels(manager_client, shirt):
    variant = variant_with(shirt, Size="M", Colour="Red")
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    colour = OptionType.objects.get(product=shirt, name="Colour")
    data[f"{option_row(data, colour)}-name"] = "Color"
    data[f"{option_row(data, colour)}-position"] = "0"
    data[f"{option_row(data, size)}-position"] = "1"

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 302
    variant.refresh_from_db()
    assert variant.label == "Color: Red / Size: M"


def test_values_are_reordered_without_new_ids(manager_client, shirt):
    ids = {v.value: v.pk for v in OptionValue.objects.filter(option_type__product=shirt)}
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    data[f"{option_row(data, size)}-values"] = "L, M, S"

    manager_client.post(change_url(shirt), data)

    assert [(v.value, v.pk) for v in size.values.all()] == [
        ("L", ids["L"]),
        ("M", ids["M"]),
        ("S", ids["S"]),
    ]


def test_removing_a_value_a_variant_uses_is_refused_with_a_message(manager_client, shirt):
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    data[f"{option_row(data, size)}-values"] = "S, M"  # L is used by two variants

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "L is used by shirt-4, shirt-5: choose another value for them" in html
    assert "L is being removed: choose another Size, or keep L." in html
    assert size.values.filter(value="L").exists()


def test_a_value_can_be_removed_once_its_variants_change_on_the_same_page(manager_client, shirt):
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    data[f"{option_row(data, size)}-values"] = "S, M, XL"  # L goes, XL comes
    for colour in ("Red", "Blue"):
        row = variant_row(data, variant_with(shirt, Size="L", Colour=colour))
        data[f"{row}-DELETE"] = "on"

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 302
    assert list(size.values.values_list("value", flat=True)) == ["S", "M", "XL"]
    assert ProductVariant.objects.filter(product=shirt).count() == 4


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("", "This field is required."),
        (" , ,", "Give at least one value."),
        ("S, M, s", "“S” is listed twice."),
        ("S, M, L, XL, XL", "“XL” is listed twice."),
        ("S, M, L, XL, xl", "“xl” is listed twice."),
        ("S, Q=Queen", "There is no value “Q” to rename."),
        ("S, M=, L", "Write a rename as old=new"),
        ("S, " + "X" * 51, "is too long: at most 50 characters."),
    ],
    ids=[
        "empty",
        "only-commas",
        "twice",
        "new-twice",
        "new-twice-other-case",
        "rename-unknown",
        "rename-to-nothing",
        "too-long",
    ],
)
def test_bad_value_lists_are_refused_with_a_message(manager_client, shirt, values, message):
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    data[f"{option_row(data, size)}-values"] = values

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert list(size.values.values_list("value", flat=True)) == ["S", "M", "L"]


def test_two_options_with_one_name_are_refused(manager_client, shirt):
    data = add_row(
        page_data(manager_client.get(change_url(shirt))),
        "option_types",
        name="size",
        values="Small, Large",
        position="2",
    )

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    assert "Two options are called" in response.content.decode()
    assert OptionType.objects.filter(product=shirt).count() == 2


def test_labels_that_would_not_fit_are_refused(manager_client, shirt):
    data = page_data(manager_client.get(change_url(shirt)))
    for name in ("A" * 50, "B" * 50, "C" * 50):
        add_row(data, "option_types", name=name, values="V" * 50, position="3")

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    assert "would be longer than 255 characters" in response.content.decode()
    assert OptionType.objects.filter(product=shirt).count() == 2


def test_an_option_can_be_deleted_when_the_variants_stay_distinct(manager_client):
    product = product_with_options(name="Mug", slug="mug", options={"Size": ["S", "L"],
                                                                    "Colour": ["Red"]})  # fmt: skip
    data = page_data(manager_client.get(change_url(product)))
    colour = OptionType.objects.get(product=product, name="Colour")
    data[f"{option_row(data, colour)}-DELETE"] = "on"

    response = manager_client.post(change_url(product), data)

    assert response.status_code == 302
    assert not OptionType.objects.filter(pk=colour.pk).exists()
    labels = sorted(ProductVariant.objects.filter(product=product).values_list("label", flat=True))
    assert labels == ["Size: L", "Size: S"]
    assert variant_with(product, Size="L").label == "Size: L"  # its key lost Red's id too


def test_deleting_an_option_that_would_merge_variants_is_refused(manager_client, shirt):
    data = page_data(manager_client.get(change_url(shirt)))
    colour = OptionType.objects.get(product=shirt, name="Colour")
    data[f"{option_row(data, colour)}-DELETE"] = "on"

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    assert "once Colour is removed" in response.content.decode()
    assert OptionType.objects.filter(pk=colour.pk).exists()


# Variants and their options.


def test_each_variant_row_has_a_select_per_option(manager_client, shirt):
    page = manager_client.get(change_url(shirt))

    formset = inline_formset(page, "variants")
    size = OptionType.objects.get(product=shirt, name="Size")
    field = formset.forms[0].fields[option_field(size)]
    assert field.label == "Size"
    assert [label for _, label in field.choices] == ["---------", "S", "M", "L"]
    html = page.content.decode()
    assert f'name="variants-0-{option_field(size)}"' in html


def test_a_new_variant_is_added_with_its_options_and_moves_the_price_range(manager_client):
    product = product_with_options(name="Mug", slug="mug", options={"Size": ["S", "M", "L"]})
    size = OptionType.objects.get(product=product)
    ProductVariant.objects.filter(product=product, label="Size: L").delete()
    data = page_data(manager_client.get(change_url(product)))
    add_row(
        data,
        "variants",
        sku="MUG-L",
        price="30.00",
        stock="4",
        is_active="on",
        position="5",
        **{option_field(size): str(value_of(product, "Size", "L").pk)},
    )

    response = manager_client.post(change_url(product), data)

    assert response.status_code == 302
    variant = ProductVariant.objects.get(sku="MUG-L")
    assert variant.label == "Size: L"
    assert variant == variant_with(product, Size="L")
    product.refresh_from_db()
    assert (product.price_min, product.price_max) == (Decimal("20.00"), Decimal("30.00"))


def test_a_variant_changes_its_options(manager_client, shirt):
    variant = variant_with(shirt, Size="S", Colour="Red")
    variant_with(shirt, Size="L", Colour="Blue").delete()
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    colour = OptionType.objects.get(product=shirt, name="Colour")
    row = variant_row(data, variant)
    data[f"{row}-{option_field(size)}"] = str(value_of(shirt, "Size", "L").pk)
    data[f"{row}-{option_field(colour)}"] = str(value_of(shirt, "Colour", "Blue").pk)

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 302
    variant.refresh_from_db()
    assert variant.label == "Size: L / Colour: Blue"
    assert variant == variant_with(shirt, Size="L", Colour="Blue")
    assert sorted(variant.options.values_list("value__value", flat=True)) == ["Blue", "L"]


def test_two_variants_can_trade_options_in_one_save(manager_client, shirt):
    small = variant_with(shirt, Size="S", Colour="Red")
    large = variant_with(shirt, Size="L", Colour="Red")
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    data[f"{variant_row(data, small)}-{option_field(size)}"] = str(value_of(shirt, "Size", "L").pk)
    data[f"{variant_row(data, large)}-{option_field(size)}"] = str(value_of(shirt, "Size", "S").pk)

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 302
    small.refresh_from_db()
    large.refresh_from_db()
    assert (small.label, large.label) == ("Size: L / Colour: Red", "Size: S / Colour: Red")


def test_a_duplicate_combination_on_the_page_is_refused_with_a_message(manager_client, shirt):
    variant = variant_with(shirt, Size="S", Colour="Red")
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    data[f"{variant_row(data, variant)}-{option_field(size)}"] = str(
        value_of(shirt, "Size", "M").pk
    )  # M / Red is another variant's

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    html = response.content.decode()
    other = variant_with(shirt, Size="M", Colour="Red")
    assert f"Same options as {other.sku} (Size: M / Colour: Red)" in html
    variant.refresh_from_db()
    assert variant.label == "Size: S / Colour: Red"


def test_a_new_variant_duplicating_one_in_the_database_is_refused(manager_client, shirt):
    variant_with(shirt, Size="L", Colour="Blue").delete()
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    colour = OptionType.objects.get(product=shirt, name="Colour")
    large, blue = value_of(shirt, "Size", "L"), value_of(shirt, "Colour", "Blue")
    add_row(
        data,
        "variants",
        sku="SHIRT-NEW",
        price="20.00",
        stock="1",
        is_active="on",
        position="9",
        **{option_field(size): str(large.pk), option_field(colour): str(blue.pk)},
    )
    # Another editor made L / Blue after this page was opened: it is not on the page.
    variant_set_options(
        variant=VariantFactory(product=shirt, sku="SHIRT-L-BLUE"), values=[large, blue]
    )

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Same options as SHIRT-L-BLUE (Size: L / Colour: Blue)" in html
    assert not ProductVariant.objects.filter(sku="SHIRT-NEW").exists()


def test_a_variant_without_a_value_for_each_option_is_refused(manager_client, shirt):
    variant = variant_with(shirt, Size="S", Colour="Red")
    data = page_data(manager_client.get(change_url(shirt)))
    colour = OptionType.objects.get(product=shirt, name="Colour")
    data[f"{variant_row(data, variant)}-{option_field(colour)}"] = ""

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    assert "Choose a Colour." in response.content.decode()


def test_a_value_of_another_product_is_refused(manager_client, shirt):
    other = product_with_options(name="Hat", slug="hat", options={"Size": ["S", "M"]})
    variant = variant_with(shirt, Size="S", Colour="Red")
    data = page_data(manager_client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    data[f"{variant_row(data, variant)}-{option_field(size)}"] = str(
        value_of(other, "Size", "M").pk
    )

    response = manager_client.post(change_url(shirt), data)

    assert response.status_code == 200
    assert "Choose one of the Size values listed." in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_people_adding_one_combination_at_once_get_a_message_not_an_error(client):
    client.force_login(catalog_manager())
    shirt = product_with_options(name="Shirt", slug="shirt")
    variant_with(shirt, Size="L", Colour="Blue").delete()
    large, blue = value_of(shirt, "Size", "L"), value_of(shirt, "Colour", "Blue")
    data = page_data(client.get(change_url(shirt)))
    size = OptionType.objects.get(product=shirt, name="Size")
    colour = OptionType.objects.get(product=shirt, name="Colour")
    choice = {option_field(size): str(large.pk), option_field(colour): str(blue.pk)}
    add_row(data, "variants", sku="SHIRT-MINE", price="20.00", stock="1", is_active="on",
            position="9", **choice)  # fmt: skip
    holder, release, outcome = [], threading.Event(), {}

    def other_editor():  # saves L / Blue while this one is saving it too
        try:
            with transaction.atomic():
                product_lock(product_id=shirt.pk)
                holder.append(backend_pid())
                release.wait(10)
                theirs = VariantFactory(product=shirt, sku="SHIRT-THEIRS")
                variant_set_options(variant=theirs, values=[large, blue])
        finally:
            connection.close()

    def this_editor():
        try:
            outcome["response"] = client.post(change_url(shirt), data)
        except Exception as error:  # what the browser would get as a 500
            outcome["error"] = error
        finally:
            connection.close()

    others = threading.Thread(target=other_editor)
    others.start()
    wait_for(lambda: holder)
    mine = threading.Thread(target=this_editor)
    mine.start()

    def waiting():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                [holder[0]],
            )
            return cursor.fetchone()[0] > 0

    wait_for(waiting)
    release.set()
    others.join(10)
    mine.join(10)

    assert "error" not in outcome, outcome.get("error")
    assert outcome["response"].status_code == 200
    assert "Same options as SHIRT-THEIRS (Size: L / Colour: Blue)" in (
        outcome["response"].content.decode()
    )
    assert not ProductVariant.objects.filter(sku="SHIRT-MINE").exists()


# Generating every combination.


def test_the_action_generates_every_missing_combination(manager_client, shirt):
    for variant in ProductVariant.objects.filter(product=shirt).exclude(label__contains="S /"):
        variant.delete()
    ProductVariant.objects.filter(product=shirt, label="Size: S / Colour: Blue").update(
        price=Decimal("18.00"), is_active=False
    )  # the lowest price of the active variants is 20.00
    simple = ProductFactory(name="Kettle")

    response = manager_client.post(
        reverse(CHANGELIST),
        {"action": "generate_variants", "_selected_action": [shirt.pk, simple.pk]},
        follow=True,
    )

    html = response.content.decode()
    assert "4 variant(s) made (Shirt: 4)" in html
    assert "No options, left alone: Kettle." in html
    variants = ProductVariant.objects.filter(product=shirt)
    assert variants.count() == 6
    made = variant_with(shirt, Size="M", Colour="Blue")
    assert (made.sku, made.price, made.stock, made.is_active) == (
        "SHIRT-M-BLUE",
        Decimal("20.00"),
        0,
        True,
    )
    assert made.label == "Size: M / Colour: Blue"
    assert ProductVariant.objects.filter(product=simple).count() == 1

    again = manager_client.post(
        reverse(CHANGELIST),
        {"action": "generate_variants", "_selected_action": [shirt.pk]},
        follow=True,
    )
    assert "Already a variant for every combination: Shirt." in again.content.decode()
    assert variants.count() == 6


def test_generated_skus_never_take_one_in_use(manager_client):
    product = product_with_options(name="Mug", slug="mug", options={"Size": ["S", "L"]})
    ProductVariant.objects.filter(product=product, label="Size: L").delete()
    ProductFactory(sku="MUG-L")  # another product has the SKU the new variant would get

    manager_client.post(
        reverse(CHANGELIST), {"action": "generate_variants", "_selected_action": [product.pk]}
    )

    assert variant_with(product, Size="L").sku == "MUG-L-2"


def test_generating_without_a_price_to_copy_is_refused_with_a_message(manager_client):
    product = ProductFactory(name="Blank", variant=None)
    size = OptionType.objects.create(product=product, name="Size")
    OptionValue.objects.create(option_type=size, value="S")

    response = manager_client.post(
        reverse(CHANGELIST),
        {"action": "generate_variants", "_selected_action": [product.pk]},
        follow=True,
    )

    assert "Blank: nothing made. It has no price to copy" in response.content.decode()
    assert not ProductVariant.objects.filter(product=product).exists()


def test_generating_more_than_a_product_may_hold_is_refused(manager_client):
    values = [f"V{n}" for n in range(MAX_VARIANTS + 1)]
    product = product_with_options(name="Many", slug="many", options={"Size": values[:1]})
    size = OptionType.objects.get(product=product)
    OptionValue.objects.bulk_create(
        OptionValue(option_type=size, value=value, position=n)
        for n, value in enumerate(values[1:], start=1)
    )

    response = manager_client.post(
        reverse(CHANGELIST),
        {"action": "generate_variants", "_selected_action": [product.pk]},
        follow=True,
    )

    assert f"a product has at most {MAX_VARIANTS}" in response.content.decode()
    assert ProductVariant.objects.filter(product=product).count() == 1


def test_the_change_page_button_generates_the_combinations(manager_client):
    product = ProductFactory(name="Tee", slug="tee", sku="TEE", price=Decimal("9.00"))
    data = add_row(
        page_data(manager_client.get(change_url(product))),
        "option_types",
        name="Size",
        values="S, M",
        position="0",
    )
    manager_client.post(change_url(product), data)
    page = manager_client.get(change_url(product))
    url = reverse("admin:catalog_product_generate_variants", args=[product.pk])
    assert f'action="{url}"' in page.content.decode()

    refused = manager_client.get(url)
    response = manager_client.post(url, follow=True)

    assert refused.status_code == 405
    assert response.redirect_chain[-1][0] == change_url(product)
    assert "1 variant(s) made (Tee: 1)" in response.content.decode()
    assert sorted(ProductVariant.objects.filter(product=product).values_list("sku", "label")) == [
        ("TEE", "Size: S"),
        ("TEE-M", "Size: M"),
    ]


def test_a_product_without_options_has_no_generate_button(manager_client):
    product = ProductFactory()

    page = manager_client.get(change_url(product)).content.decode()

    assert "Generate every combination" not in page


# Stock edits: a change, not an overwrite, variant by variant.


def test_a_stock_edit_keeps_sales_made_while_the_form_was_open(manager_client, shirt):
    variant = variant_with(shirt, Size="M", Colour="Red")
    other = variant_with(shirt, Size="S", Colour="Red")
    data = page_data(manager_client.get(change_url(shirt)))
    row = variant_row(data, variant)
    assert data[f"{row}-stock_seen"] == "5"
    html = manager_client.get(change_url(shirt)).content.decode()
    assert f'name="{row}-stock_seen" value="5"' in html

    # A shopper buys 3 of M / Red, and another 1 of S / Red, while the manager is typing.
    ProductVariant.objects.filter(pk=variant.pk).update(stock=2)
    ProductVariant.objects.filter(pk=other.pk).update(stock=4)
    data[f"{row}-stock"] = "10"
    response = manager_client.post(change_url(shirt), data, follow=True)

    variant.refresh_from_db()
    other.refresh_from_db()
    assert variant.stock == 7  # the manager added 5 to what was really there
    assert other.stock == 4  # a row left alone is not written back
    assert f"Stock of {variant.sku} changed while you were editing" in response.content.decode()


def test_editing_the_price_does_not_touch_stock_and_moves_the_price_range(manager_client, shirt):
    variant = variant_with(shirt, Size="L", Colour="Blue")
    data = page_data(manager_client.get(change_url(shirt)))
    ProductVariant.objects.filter(pk=variant.pk).update(stock=4)
    data[f"{variant_row(data, variant)}-price"] = "26.50"

    manager_client.post(change_url(shirt), data)

    variant.refresh_from_db()
    assert (variant.price, variant.stock) == (Decimal("26.50"), 4)
    shirt.refresh_from_db()
    assert (shirt.price_min, shirt.price_max) == (Decimal("20.00"), Decimal("26.50"))


def test_deactivating_a_variant_takes_it_out_of_the_price_range(manager_client, shirt):
    variant = variant_with(shirt, Size="L", Colour="Blue")
    ProductVariant.objects.filter(pk=variant.pk).update(price=Decimal("30.00"))
    data = page_data(manager_client.get(change_url(shirt)))
    del data[f"{variant_row(data, variant)}-is_active"]

    manager_client.post(change_url(shirt), data)

    shirt.refresh_from_db()
    assert (shirt.price_min, shirt.price_max) == (Decimal("20.00"), Decimal("20.00"))


def test_a_stock_reduction_larger_than_what_is_left_stops_at_zero(manager_client):
    product = ProductFactory(stock=10)
    data = page_data(manager_client.get(change_url(product)))
    ProductVariant.objects.filter(product=product).update(stock=2)
    data[f"{variant_row(data, only_variant(product))}-stock"] = "5"

    manager_client.post(change_url(product), data)

    assert only_variant(product).stock == 0


def edit_stock(client, product, stock, stock_seen):
    data = page_data(client.get(change_url(product)))
    row = variant_row(data, only_variant(product))
    data.update({f"{row}-stock": stock, f"{row}-stock_seen": stock_seen})
    return client.post(change_url(product), data, follow=True)


@pytest.mark.parametrize(
    "stock_seen", ["-1", "2147483648", "99999999999999999999", "-99999999999999999999"]
)
def test_a_stock_seen_out_of_range_gives_the_form_back_with_a_message(manager_client, stock_seen):
    product = ProductFactory(stock=10)

    response = edit_stock(manager_client, product, "15", stock_seen)

    assert response.status_code == 200
    assert "open the product again and repeat your change" in response.content.decode()
    assert only_variant(product).stock == 10


def test_a_stock_edit_that_would_overflow_the_column_is_capped_with_a_message(manager_client):
    product = ProductFactory(stock=0, sku="KET-1")
    data = page_data(manager_client.get(change_url(product)))
    ProductVariant.objects.filter(product=product).update(stock=10)  # a restock meanwhile
    data[f"{variant_row(data, only_variant(product))}-stock"] = "2147483647"

    response = manager_client.post(change_url(product), data, follow=True)

    assert response.status_code == 200
    assert "Stock of KET-1 cannot go above 2,147,483,647" in response.content.decode()
    assert only_variant(product).stock == 2_147_483_647


# The storefront follows.


def test_saving_and_generating_move_the_catalogue_version_on(
    manager_client, shirt, django_capture_on_commit_callbacks
):
    def version():
        return CatalogVersion.objects.get(pk=CatalogVersion.ROW).value

    before = version()
    data = page_data(manager_client.get(change_url(shirt)))
    data[f"{variant_row(data, variant_with(shirt, Size='S', Colour='Red'))}-price"] = "19.00"
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(change_url(shirt), data)
    after_save = version()
    variant_with(shirt, Size="L", Colour="Blue").delete()
    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(
            reverse(CHANGELIST), {"action": "generate_variants", "_selected_action": [shirt.pk]}
        )

    assert after_save > before
    assert version() > after_save
