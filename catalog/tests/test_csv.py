"""CSV import and export of products (catalog.csv_io), its commands and its back-office pages."""

import csv
import io
import os
import time
from decimal import Decimal

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from accounts.tests.factories import catalog_manager, order_manager
from catalog.csv_io import (
    COLUMNS,
    MAX_UPLOAD_BYTES,
    PENDING_FOLDER,
    export_rows,
    import_products,
)
from catalog.models import (
    CatalogVersion,
    Category,
    OptionType,
    OptionValue,
    Product,
    ProductImage,
    ProductVariant,
    VariantOption,
)
from catalog.services import combination_key
from catalog.tests.factories import (
    CategoryFactory,
    ProductFactory,
    only_variant,
    product_with_options,
)

pytestmark = pytest.mark.django_db

HEADER = [*COLUMNS, "option1_name", "option1_value", "option2_name", "option2_value"]


def row(
    slug="oak-mug",
    sku="MUG-1",
    *,
    name="Oak mug",
    category="kitchen",
    description="A mug.",
    active="yes",
    pictures="",
    price="12.50",
    stock="5",
    stock_at_export="",
    variant_active="yes",
    options=(),
):
    cells = [slug, name, category, description, active, pictures, sku, price, stock]
    cells += [stock_at_export, variant_active]
    flat = [part for option in options for part in option]
    return cells + flat + [""] * (4 - len(flat))


def csv_bytes(*rows, header=HEADER):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def snapshot():
    """Every catalogue row, every field: equal snapshots mean nothing was written."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Category, Product, OptionType, OptionValue, ProductVariant, VariantOption)
    ]


def version():
    return CatalogVersion.objects.get_or_create(pk=CatalogVersion.ROW)[0].value


def export_text():
    out = io.StringIO()
    call_command("export_products", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def shirt_rows(slug="shirt", prefix="SH"):
    return [
        row(slug, f"{prefix}-S-RED", name="Shirt", price="20.00", stock="3",
            options=[("Size", "S"), ("Colour", "Red")]),
        row(slug, f"{prefix}-S-BLUE", name="Shirt", price="20.00", stock="0",
            options=[("Size", "S"), ("Colour", "Blue")]),
        row(slug, f"{prefix}-L-RED", name="Shirt", price="24.00", stock="7",
            options=[("Size", "L"), ("Colour", "Red")]),
        row(slug, f"{prefix}-L-BLUE", name="Shirt", price="26.00", stock="1",
            variant_active="no", options=[("Size", "L"), ("Colour", "Blue")]),
    ]  # fmt: skip


@pytest.fixture
def kitchen():
    return CategoryFactory(slug="kitchen", name="Kitchen")


# --- Import: what it writes ------------------------------------------------------------------


def test_import_creates_products_with_options_variants_and_prices(
    kitchen, django_capture_on_commit_callbacks
):
    before = version()
    data = csv_bytes(row(), *shirt_rows())

    with django_capture_on_commit_callbacks(execute=True):
        result = import_products(data)

    assert result.ok, result.problems
    assert result.applied
    assert result.counts["products_created"] == 2
    assert result.counts["variants_created"] == 5
    shirt = Product.objects.get(slug="shirt")
    assert shirt.category == kitchen
    assert (shirt.price_min, shirt.price_max) == (Decimal("20.00"), Decimal("24.00"))
    assert [t.name for t in shirt.option_types.all()] == ["Size", "Colour"]
    size = shirt.option_types.get(name="Size")
    assert [v.value for v in size.values.all()] == ["S", "L"]
    variants = list(shirt.variants.all())
    assert [v.sku for v in variants] == ["SH-S-RED", "SH-S-BLUE", "SH-L-RED", "SH-L-BLUE"]
    assert [v.position for v in variants] == [0, 1, 2, 3]
    assert variants[2].label == "Size: L / Colour: Red"
    assert variants[3].is_active is False
    for variant in variants:
        value_ids = list(variant.options.values_list("value_id", flat=True))
        assert len(value_ids) == 2
        assert variant.combination == combination_key(value_ids)
    mug = Product.objects.get(slug="oak-mug")
    mug_variant = only_variant(mug)
    assert (mug_variant.sku, mug_variant.price, mug_variant.stock) == ("MUG-1", Decimal("12.50"), 5)
    assert (mug_variant.combination, mug_variant.label) == ("", "")
    assert (mug.price_min, mug.price_max) == (Decimal("12.50"), Decimal("12.50"))
    # The catalogue version moves on once for the whole import.
    assert version() == before + 1


def test_import_updates_existing_products_and_variants(kitchen):
    garden = CategoryFactory(slug="garden")
    product = ProductFactory(slug="oak-mug", name="Old", category=kitchen, sku="MUG-1", price=9)

    result = import_products(csv_bytes(row(category="garden", price="11.00", stock="8")))

    assert result.ok, result.problems
    product.refresh_from_db()
    assert (product.name, product.category) == ("Oak mug", garden)
    assert (product.price_min, product.price_max) == (Decimal("11.00"), Decimal("11.00"))
    variant = only_variant(product)
    assert (variant.price, variant.stock) == (Decimal("11.00"), 8)
    assert result.counts["products_changed"] == 1
    assert result.counts["variants_changed"] == 1
    (product_change, variant_change) = result.changes
    assert ("category", "kitchen", "garden") in product_change.fields
    assert ("price", "9.00", "11.00") in variant_change.fields


def test_new_variants_follow_the_products_own_and_move_its_prices(kitchen):
    import_products(csv_bytes(*shirt_rows()))

    result = import_products(
        csv_bytes(
            row(
                "shirt",
                "SH-M-RED",
                name="Shirt",
                price="30.00",
                options=[("Size", "M"), ("Colour", "Red")],
            ),
            row(
                "shirt",
                "SH-S-RED",
                name="Shirt",
                price="19.00",
                stock="3",
                options=[("Size", "S"), ("Colour", "Red")],
            ),
        )
    )

    assert result.ok, result.problems
    shirt = Product.objects.get(slug="shirt")
    assert (shirt.price_min, shirt.price_max) == (Decimal("19.00"), Decimal("30.00"))
    new = ProductVariant.objects.get(sku="SH-M-RED")
    assert (new.position, new.label) == (4, "Size: M / Colour: Red")
    assert [r.value for r in OptionType.objects.get(product=shirt, name="Size").values.all()] == [
        "S",
        "L",
        "M",
    ]


def test_variants_can_swap_their_options(kitchen):
    import_products(csv_bytes(*shirt_rows()))
    rows = shirt_rows()
    # SH-S-RED becomes S/Blue and SH-S-BLUE becomes S/Red: each takes the other's combination.
    rows[0][-1], rows[1][-1] = "Blue", "Red"

    result = import_products(csv_bytes(*rows))

    assert result.ok, result.problems
    red = ProductVariant.objects.get(sku="SH-S-RED")
    blue = ProductVariant.objects.get(sku="SH-S-BLUE")
    assert red.label == "Size: S / Colour: Blue"
    assert blue.label == "Size: S / Colour: Red"
    assert set(red.options.values_list("value__value", flat=True)) == {"S", "Blue"}
    assert red.combination == combination_key(red.options.values_list("value_id", flat=True))


def test_a_new_option_value_is_added_to_the_products_options(kitchen):
    import_products(csv_bytes(*shirt_rows()))

    result = import_products(
        csv_bytes(row("shirt", "SH-XL", name="Shirt", options=[("Size", "XL"), ("Colour", "Red")]))
    )

    assert result.ok, result.problems
    size = OptionType.objects.get(product__slug="shirt", name="Size")
    assert list(size.values.values_list("value", "position")) == [("S", 0), ("L", 1), ("XL", 2)]
    assert ProductVariant.objects.get(sku="SH-XL").label == "Size: XL / Colour: Red"


def test_absent_optional_columns_leave_those_fields_alone(kitchen):
    product = ProductFactory(slug="oak-mug", category=kitchen, sku="MUG-1", description="Keep")
    header = ["product_slug", "product_name", "category", "sku", "price", "stock"]

    result = import_products(
        csv_bytes(["oak-mug", "Oak mug", "kitchen", "MUG-1", "3", "4"], header=header)
    )

    assert result.ok, result.problems
    product.refresh_from_db()
    assert product.description == "Keep"
    assert (only_variant(product).price, only_variant(product).stock) == (Decimal("3.00"), 4)


def test_pictures_are_stored_by_name_when_the_files_are_in_storage(kitchen):
    first = default_storage.save("products/2026/11/mug.png", ContentFile(b"png"))
    second = default_storage.save("products/2026/11/mug-side.jpg", ContentFile(b"jpg"))

    result = import_products(csv_bytes(row(pictures=f"{first}; {second}")))

    assert result.ok, result.problems
    product = Product.objects.get(slug="oak-mug")
    assert list(product.pictures.values_list("image", "position")) == [(first, 0), (second, 1)]
    assert Product.objects.for_cards().get(pk=product.pk).cover_picture.name == first

    reordered = import_products(csv_bytes(row(pictures=second)))

    assert reordered.ok, reordered.problems
    assert list(product.pictures.values_list("image", flat=True)) == [second]
    change = reordered.changes[0]
    assert change.fields == (("pictures", f"{first};{second}", second),)


@pytest.mark.parametrize(
    ("pictures", "message"),
    [
        ("products/missing.png", "there is no file 'products/missing.png'"),
        ("imports/secret.csv", "is not a picture's file name"),
        ("../../etc/passwd.png", "there is no file"),
        ("products/a.png.renditions/400w.v1.webp", "is not a picture's file name"),
        ("a.png;a.png", "a file name is given twice"),
    ],
)
def test_pictures_not_in_storage_are_refused(kitchen, pictures, message):
    default_storage.save("imports/secret.csv", ContentFile(b"x"))
    before = snapshot()

    result = import_products(csv_bytes(row(pictures=pictures)))

    assert any(message in str(p) and p.line == 2 for p in result.problems), result.problems
    assert snapshot() == before


# --- Stock -----------------------------------------------------------------------------------


def test_stock_left_as_exported_keeps_the_sales_made_since(kitchen):
    product = ProductFactory(slug="oak-mug", category=kitchen, sku="MUG-1", stock=10, price=5)
    text = export_text()
    variant = only_variant(product)
    variant.stock = 8  # two sold after the export
    variant.save()
    edited = text.replace("MUG-1,5.00,10,10", "MUG-1,6.00,10,10")
    assert edited != text

    result = import_products(edited.encode())

    assert result.ok, result.problems
    variant.refresh_from_db()
    assert (variant.price, variant.stock) == (Decimal("6.00"), 8)


def test_stock_edited_in_the_file_is_set_with_a_warning_when_it_moved_since(kitchen):
    product = ProductFactory(slug="oak-mug", category=kitchen, sku="MUG-1", stock=10, price=5)
    text = export_text()
    variant = only_variant(product)
    variant.stock = 8
    variant.save()

    result = import_products(text.replace("MUG-1,5.00,10,10", "MUG-1,5.00,15,10").encode())

    assert result.ok, result.problems
    variant.refresh_from_db()
    assert variant.stock == 15
    assert any("was 10 when exported and is 8 now" in str(w) for w in result.warnings)


def test_without_stock_at_export_the_file_sets_the_stock(kitchen):
    ProductFactory(slug="oak-mug", category=kitchen, sku="MUG-1", stock=10, price="12.50")

    import_products(csv_bytes(row(stock="3")))

    assert ProductVariant.objects.get(sku="MUG-1").stock == 3


# --- Export and round trip -------------------------------------------------------------------


@pytest.fixture
def catalogue(kitchen):
    picture = default_storage.save("products/2026/11/kettle.png", ContentFile(b"png"))
    kettle = ProductFactory(
        slug="kettle",
        name="Kettle, “copper”",
        category=kitchen,
        description='Line one\nline two, with "quotes" and ; semicolons',
        sku="KET-1",
        price=Decimal("45.00"),
        stock=3,
    )
    ProductImage.objects.create(product=kettle, image=picture)
    ProductFactory(slug="hidden", is_active=False, category=kitchen, sku="HID-1")
    shirt = product_with_options(slug="shirt", category=CategoryFactory(slug="clothes"))
    ProductVariant.objects.filter(product=shirt, position=1).update(is_active=False)
    return shirt


def test_export_writes_one_row_per_variant_with_its_product(catalogue):
    rows = list(csv.DictReader(io.StringIO(export_text())))

    assert len(rows) == 2 + 6
    kettle = next(r for r in rows if r["sku"] == "KET-1")
    assert kettle["product_slug"] == "kettle"
    assert kettle["description"] == 'Line one\nline two, with "quotes" and ; semicolons'
    assert kettle["pictures"] == "products/2026/11/kettle.png"
    assert (kettle["price"], kettle["stock"], kettle["stock_at_export"]) == ("45.00", "3", "3")
    assert next(r for r in rows if r["sku"] == "HID-1")["product_active"] == "no"
    shirt = [r for r in rows if r["product_slug"] == "shirt"]
    assert [(r["option1_name"], r["option1_value"]) for r in shirt[:2]] == [("Size", "S")] * 2
    assert [r["option2_value"] for r in shirt[:2]] == ["Red", "Blue"]
    assert [r["variant_active"] for r in shirt[:2]] == ["yes", "no"]


def test_exporting_and_importing_back_changes_nothing(
    catalogue, tmp_path, django_capture_on_commit_callbacks
):
    file = tmp_path / "products.csv"
    call_command("export_products", str(file), stderr=io.StringIO())
    before = snapshot()
    out = io.StringIO()

    with django_capture_on_commit_callbacks() as callbacks:
        call_command("import_products", str(file), stdout=out, stderr=io.StringIO())

    assert snapshot() == before
    assert "Nothing to change" in out.getvalue()
    assert (
        "0 new, 0 changed, 3 unchanged; variants: 0 new, 0 changed, 8 unchanged" in out.getvalue()
    )
    assert callbacks == []  # not even the catalogue version moves


@pytest.mark.django_db(transaction=True)
def test_an_export_reads_one_snapshot_of_the_catalogue():
    """A change committed while an export runs is not half in it."""
    ProductFactory(slug="kettle", name="Kettle", sku="KET-1")
    rows = export_rows()
    next(rows)  # the header: the export's transaction has begun and read the catalogue
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname=settings["NAME"],
        autocommit=True,
    ) as other:
        other.execute("UPDATE catalog_product SET name = 'Renamed' WHERE slug = 'kettle'")

    kettle = next(rows)

    assert kettle[:2] == ["kettle", "Kettle"]
    assert list(rows) == []
    assert Product.objects.get(slug="kettle").name == "Renamed"


def test_an_export_imported_into_an_empty_store_gives_the_same_catalogue(catalogue):
    first = export_text()
    Product.objects.all().delete()

    result = import_products(first.encode())

    assert result.ok, result.problems
    assert result.counts["variants_created"] == 8
    assert export_text() == first


# --- Bad input: every problem reported with its line, nothing saved ---------------------------


def problems_of(data):
    before = snapshot()
    result = import_products(data)
    assert not result.ok
    assert not result.applied
    assert snapshot() == before
    return [str(problem) for problem in result.problems]


def test_a_negative_stock_is_refused_and_nothing_is_saved(kitchen):
    problems = problems_of(csv_bytes(row(), row("tea", "TEA-1", stock="-3")))

    assert problems == ["Line 3: stock: -3 is below zero; stock cannot be negative."]
    assert not Product.objects.exists()  # the good row on line 2 is not saved either


def test_a_duplicate_sku_is_refused(kitchen):
    problems = problems_of(csv_bytes(row(), row("tea", "MUG-1")))

    assert problems == ["Line 3: sku: 'MUG-1' is also on line 2; one row per SKU."]


def test_an_unknown_category_is_refused_with_a_hint(kitchen):
    problems = problems_of(csv_bytes(row(category="Kitchen"), row("tea", "TEA-1", category="x")))

    assert problems[0].startswith(
        "Line 2: category: there is no category 'Kitchen' (did you mean its slug, 'kitchen'?)"
    )
    assert problems[1].startswith("Line 3: category: there is no category 'x'.")


def test_a_sku_of_another_product_is_refused(kitchen):
    ProductFactory(slug="teapot", sku="POT-1")

    problems = problems_of(csv_bytes(row(sku="POT-1")))

    assert problems == [
        "Line 2: sku: 'POT-1' belongs to the product 'teapot'; a SKU cannot move to another "
        "product."
    ]


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("0", "price: Ensure this value is greater than or equal to 0.01."),
        ("-2.00", "price: Ensure this value is greater than or equal to 0.01."),
        ("1.005", "price: Prices in USD have at most 2 decimals."),
        ("abc", "price: “abc” value must be a decimal number."),
        ("1,250.00", "price: '1,250.00': write prices with a point and no separators"),
        ("", "price: it is empty."),
    ],
)
def test_bad_prices_are_refused(kitchen, price, message):
    problems = problems_of(csv_bytes(row(price=price)))

    assert len(problems) == 1
    assert problems[0].startswith(f"Line 2: {message}")


def test_prices_must_fit_the_store_currency(kitchen, settings):
    settings.STORE_CURRENCY = "JPY"

    problems = problems_of(csv_bytes(row(price="500.50"), row("tea", "TEA-1", price="500.00")))

    assert problems == ["Line 2: price: Prices in JPY have no decimals."]


@pytest.mark.parametrize(
    ("stock", "message"),
    [
        ("1.5", "stock: '1.5' is not a whole number."),
        ("ten", "stock: 'ten' is not a whole number."),
        ("", "stock: it is empty."),
        ("3000000000", "stock: 3,000,000,000 is more than a stock can be"),
    ],
)
def test_bad_stock_numbers_are_refused(kitchen, stock, message):
    problems = problems_of(csv_bytes(row(stock=stock)))

    assert len(problems) == 1
    assert problems[0].startswith(f"Line 2: {message}")


def test_missing_and_unknown_columns_are_refused(kitchen):
    header = ["product_slug", "product_name", "sku", "price", "colour"]

    problems = problems_of(csv_bytes(["oak-mug", "Oak mug", "MUG-1", "1", "red"], header=header))

    assert problems[0].startswith("Line 1: unknown column 'colour'.")
    assert problems[1] == "Line 1: missing column(s): category, stock."


def test_an_option_column_without_its_pair_is_refused(kitchen):
    header = [*COLUMNS, "option1_name"]

    problems = problems_of(csv_bytes(row()[:-3], header=header))

    assert problems == ["Line 1: option1_name needs an option1_value column beside it."]


def test_rows_of_one_product_that_disagree_are_refused(kitchen):
    problems = problems_of(
        csv_bytes(
            row(options=[("Size", "S")]),
            row(sku="MUG-2", description="Another mug.", options=[("Size", "M")]),
        )
    )

    assert problems == [
        "Line 3: description is 'Another mug.' here but 'A mug.' on line 2, for the same "
        "product 'oak-mug': every row of a product gives the same product fields."
    ]


def test_two_variants_with_the_same_options_are_refused(kitchen):
    rows = shirt_rows()
    rows[1] = row("shirt", "SH-DUP", name="Shirt", options=[("Size", "S"), ("Colour", "Red")])

    problems = problems_of(csv_bytes(*rows))

    assert problems == [
        "Line 3: options: Size: S / Colour: Red, the same as SKU 'SH-S-RED' on line 2; each "
        "variant of a product needs options of its own (a product without options has one "
        "variant)."
    ]


def test_a_new_variant_with_the_options_of_one_not_in_the_file_is_refused(kitchen):
    import_products(csv_bytes(*shirt_rows()))

    problems = problems_of(
        csv_bytes(row("shirt", "SH-NEW", name="Shirt", options=[("Size", "L"), ("Colour", "Red")]))
    )

    assert problems == [
        "Line 2: options: Size: L / Colour: Red, the same as SKU 'SH-L-RED', which is not in "
        "the file; each variant of a product needs options of its own (a product without "
        "options has one variant)."
    ]


def test_changing_a_products_options_is_refused(kitchen):
    import_products(csv_bytes(*shirt_rows()))

    problems = problems_of(
        csv_bytes(row("shirt", "SH-S-RED", name="Shirt", options=[("Colour", "Red")]))
    )

    assert problems[0].startswith(
        "Line 2: options: the product 'shirt' has the options Size, Colour, in that order; the "
        "file gives Colour."
    )


def test_every_problem_of_the_file_is_listed_at_once(kitchen):
    problems = problems_of(
        csv_bytes(
            row(stock="-1"),
            row("tea", "TEA-1", price="0"),
            row("pot", "POT-1", category="nope"),
        )
    )

    assert [p.split(":")[0] for p in problems] == ["Line 2", "Line 3", "Line 4"]


def test_line_numbers_count_lines_inside_quoted_cells(kitchen):
    problems = problems_of(csv_bytes(row(description="two\nlines"), row("tea", "TEA-1", stock="x")))

    assert problems == ["Line 4: stock: 'x' is not a whole number."]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV file: it holds binary"),
        (b"PK\x03\x04\x14\x00", "This is not a CSV file but a zip file, such as an Excel"),
        ("product_slug,name\ncaf\xe9".encode("latin-1"), "Line 2: this is not UTF-8 text."),
        (b"Dear team,\nplease find attached\n", "Line 1: this is not a product CSV"),
        (b"", "The file is empty"),
        (
            b"product_slug;product_name;category;sku;price;stock\n",
            "Line 1: the columns are separated by semicolons",
        ),
        (",".join(COLUMNS).encode() + b"\n", "The file has no rows under its header."),
        (
            ",".join(COLUMNS).encode() + b'\n"unclosed,a\n',
            "Line 2: this line cannot be read as CSV",
        ),
    ],
)
def test_files_that_are_not_a_product_csv_are_refused(data, message):
    problems = problems_of(data)

    assert problems[0].startswith(message)


def test_a_byte_order_mark_and_crlf_line_ends_are_read(kitchen):
    data = "\ufeff".encode() + csv_bytes(row()).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    result = import_products(data)

    assert result.ok, result.problems


def test_a_dry_run_saves_nothing_but_says_what_would_change(kitchen):
    before = snapshot()

    result = import_products(csv_bytes(row(), *shirt_rows()), dry_run=True)

    assert result.ok
    assert not result.applied
    assert result.counts["variants_created"] == 5
    assert snapshot() == before


# --- Commands --------------------------------------------------------------------------------


def test_import_command_exits_1_and_lists_the_problems(kitchen, tmp_path):
    file = tmp_path / "bad.csv"
    file.write_bytes(csv_bytes(row(stock="-3")))
    err = io.StringIO()

    with pytest.raises(
        CommandError, match=r"1 problem\(s\) in .*bad.csv: nothing was imported"
    ) as exc:
        call_command("import_products", str(file), stderr=err)

    assert exc.value.returncode == 1
    assert "Line 2: stock: -3 is below zero" in err.getvalue()
    assert not Product.objects.exists()


def test_import_command_refuses_a_50_mb_file_before_reading_it_all(kitchen, tmp_path):
    file = tmp_path / "huge.csv"
    with open(file, "wb") as out:
        out.write(csv_bytes(row()))
        out.truncate(50 * 1024 * 1024)

    with pytest.raises(
        CommandError, match=r"The file is over 25\.0 MB; an import takes at most 25\.0 MB"
    ):
        call_command("import_products", str(file), stderr=io.StringIO())

    assert not Product.objects.exists()


def test_import_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot read .*nope.csv: No such file or directory"):
        call_command("import_products", str(tmp_path / "nope.csv"))


def test_import_command_dry_run(kitchen, tmp_path):
    file = tmp_path / "ok.csv"
    file.write_bytes(csv_bytes(row()))
    out = io.StringIO()

    call_command("import_products", str(file), "--dry-run", stdout=out, stderr=io.StringIO())

    assert "Dry run, nothing saved" in out.getvalue()
    assert "variants: 1 new" in out.getvalue()
    assert not Product.objects.exists()


def test_commands_show_progress_on_long_runs(kitchen, tmp_path):
    file = tmp_path / "many.csv"
    file.write_bytes(csv_bytes(*(row(f"p-{n}", f"SKU-{n}") for n in range(1200))))
    err = io.StringIO()

    out = io.StringIO()

    call_command("import_products", str(file), stdout=out, stderr=err)
    call_command("export_products", str(tmp_path / "out.csv"), stdout=out, stderr=err)

    assert err.getvalue().count("Reading lines: 1,201 in") == 1
    assert err.getvalue().count("Checking rows: 1,200 in") == 1
    assert err.getvalue().count("Exporting variants: 1,200 in") == 1
    assert "1,200 variants written to" in out.getvalue()
    assert Product.objects.count() == 1200


def test_export_command_refuses_a_folder_it_cannot_write(tmp_path):
    with pytest.raises(CommandError, match=r"Cannot write to .*missing"):
        call_command("export_products", str(tmp_path / "missing" / "out.csv"))


# --- Ten thousand rows -----------------------------------------------------------------------


def test_ten_thousand_rows_import_in_seconds(kitchen):
    rows = []
    for p in range(2500):
        for size in ("S", "M"):
            for colour in ("Red", "Blue"):
                rows.append(
                    row(f"product-{p}", f"P{p}-{size}-{colour}", name=f"Product {p}",
                        price=f"{10 + p % 7}.50", stock=str(p % 13),
                        options=[("Size", size), ("Colour", colour)])
                )  # fmt: skip
    data = csv_bytes(*rows)

    started = time.perf_counter()
    result = import_products(data)
    seconds = time.perf_counter() - started

    assert result.ok, result.problems[:5]
    assert ProductVariant.objects.count() == 10_000
    assert VariantOption.objects.count() == 20_000
    assert ProductVariant.objects.get(sku="P7-M-Blue").label == "Size: M / Colour: Blue"
    # About 3 s on the 2-core machine (README); the bound leaves room for a busy one.
    assert seconds < 60, seconds


# --- Back office -----------------------------------------------------------------------------


@pytest.fixture
def manager_client(client):
    client.force_login(catalog_manager())
    return client


def upload(client, data, name="products.csv"):
    return client.post(
        reverse("admin:catalog_product_import"),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv")},
    )


def test_the_product_list_has_import_and_export_buttons(manager_client):
    page = manager_client.get(reverse("admin:catalog_product_changelist")).content.decode()

    assert f'href="{reverse("admin:catalog_product_import")}">Import products' in page
    assert f'href="{reverse("admin:catalog_product_export")}">Export products' in page


def test_order_managers_can_neither_import_nor_export(client):
    client.force_login(order_manager())

    assert client.get(reverse("admin:catalog_product_import")).status_code == 403
    assert client.get(reverse("admin:catalog_product_export")).status_code == 403


def test_upload_previews_then_confirm_imports(manager_client, kitchen):
    ProductFactory(slug="oak-mug", category=kitchen, sku="MUG-1", price="10.00")
    data = csv_bytes(row(), *shirt_rows())

    preview = upload(manager_client, data)

    assert preview.status_code == 200
    page = preview.content.decode()
    assert "Line 2: variant MUG-1: price 10.00 → 12.50" in page
    assert "Line 3: new product shirt" in page
    assert "Confirm the import" in page
    assert not Product.objects.filter(slug="shirt").exists()
    token = manager_client.session["catalog_product_import"]["token"]
    stored = manager_client.session["catalog_product_import"]["name"]
    assert stored.startswith(PENDING_FOLDER)
    assert default_storage.exists(stored)

    done = manager_client.post(reverse("admin:catalog_product_import_confirm"), {"token": token})

    assert done.status_code == 302
    assert done["Location"] == reverse("admin:catalog_product_changelist")
    assert Product.objects.get(slug="shirt").variants.count() == 4
    assert ProductVariant.objects.get(sku="MUG-1").price == Decimal("12.50")
    assert not default_storage.exists(stored)
    assert "catalog_product_import" not in manager_client.session
    listing = manager_client.get(done["Location"]).content.decode()
    assert "Imported products.csv: products: 1 new, 1 changed" in listing


def test_confirm_needs_the_token_of_this_session(manager_client, kitchen):
    upload(manager_client, csv_bytes(row()))
    assert manager_client.session["catalog_product_import"]["token"]

    response = manager_client.post(
        reverse("admin:catalog_product_import_confirm"), {"token": "guessed"}, follow=True
    )

    assert "no longer waiting to be confirmed" in response.content.decode()
    assert not Product.objects.exists()


def test_confirm_reads_the_stored_file_only_if_it_is_unchanged(manager_client, kitchen):
    upload(manager_client, csv_bytes(row()))
    pending = manager_client.session["catalog_product_import"]
    default_storage.delete(pending["name"])
    default_storage.save(pending["name"], ContentFile(csv_bytes(row(stock="999"))))

    response = manager_client.post(
        reverse("admin:catalog_product_import_confirm"), {"token": pending["token"]}, follow=True
    )

    assert "no longer there: upload it again" in response.content.decode()
    assert not Product.objects.exists()


def test_cancel_drops_the_waiting_file(manager_client, kitchen):
    upload(manager_client, csv_bytes(row()))
    pending = manager_client.session["catalog_product_import"]

    manager_client.post(
        reverse("admin:catalog_product_import_confirm"),
        {"token": pending["token"], "cancel": "Cancel"},
    )

    assert not default_storage.exists(pending["name"])
    assert not Product.objects.exists()


def test_files_left_waiting_for_over_a_day_are_deleted_by_the_next_upload(manager_client, kitchen):
    old = default_storage.save(f"{PENDING_FOLDER}abandoned.csv", ContentFile(b"x"))
    recent = default_storage.save(f"{PENDING_FOLDER}recent.csv", ContentFile(b"x"))
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(default_storage.path(old), (two_days_ago, two_days_ago))

    upload(manager_client, csv_bytes(row()))

    assert not default_storage.exists(old)
    assert default_storage.exists(recent)


def test_a_file_with_problems_shows_each_with_its_line_and_no_confirm(manager_client, kitchen):
    before = snapshot()

    response = upload(
        manager_client,
        csv_bytes(row(), row("tea", "MUG-1"), row("pot", "POT-1", stock="-1")),
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Line 3: sku: &#x27;MUG-1&#x27; is also on line 2" in page
    assert "Line 4: stock: -1 is below zero" in page
    assert "Confirm the import" not in page
    assert "catalog_product_import" not in manager_client.session
    assert snapshot() == before


def test_a_non_csv_upload_is_refused_on_the_form(manager_client):
    response = upload(manager_client, b"PK\x03\x04 workbook", name="products.xlsx")

    assert response.status_code == 400
    assert "This is not a CSV file but a zip file" in response.content.decode()


def test_an_upload_over_the_import_limit_is_refused_by_the_form(manager_client, kitchen):
    data = csv_bytes(row()) + b"," * (MAX_UPLOAD_BYTES + 10)

    response = upload(manager_client, data)

    assert response.status_code == 400
    assert "an import takes at most 5.0 MB" in response.content.decode()
    assert not Product.objects.exists()


def test_a_50_mb_upload_is_refused_before_it_is_read(manager_client, kitchen):
    data = csv_bytes(row()) + b"x" * (50 * 1024 * 1024)

    response = upload(manager_client, data)

    assert response.status_code == 413
    assert "That was too large to send" in response.content.decode()
    assert not Product.objects.exists()


def test_the_upload_form_states_the_limit_and_checks_it_before_sending(manager_client):
    page = manager_client.get(reverse("admin:catalog_product_import")).content.decode()

    assert f'data-max-bytes="{MAX_UPLOAD_BYTES}"' in page
    assert "at most 5 MB" in page
    assert "js/admin-import" in page


def test_export_downloads_a_csv_the_import_reads(manager_client, catalogue):
    response = manager_client.get(reverse("admin:catalog_product_export"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="products-')
    data = b"".join(response.streaming_content)
    assert data.startswith("\ufeff".encode())
    before = snapshot()
    result = import_products(data)
    assert result.ok, result.problems
    assert not result.changes
    assert snapshot() == before
