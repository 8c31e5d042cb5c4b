"""A demonstration store: categories, products and pictures (the same for the same seed), and
delivery, tax and a discount code to check out with."""

import io
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Case, F, JSONField, Value, When
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw

from catalog.cache import catalog_changed
from catalog.images import picture_storage, renditions_current, renditions_make
from catalog.models import (
    Category,
    OptionType,
    OptionValue,
    Product,
    ProductImage,
    ProductVariant,
    VariantOption,
)
from catalog.services import combination_key
from pricing.models import ShippingMethod, ShippingZone, TaxRate, Voucher, VoucherKind
from shop.money import fits_currency, minor_unit_exponent

CATEGORIES = {
    "Kitchen": ("#c8553d", ["Mug", "Teapot", "Chopping Board", "Knife", "Colander", "Whisk"]),
    "Garden": ("#4f772d", ["Trowel", "Watering Can", "Planter", "Seed Tray", "Pruner", "Gloves"]),
    "Books": ("#3d5a80", ["Notebook", "Cookbook", "Atlas", "Field Guide", "Novel", "Sketchbook"]),
    "Home": ("#8d6a9f", ["Lamp", "Cushion", "Throw", "Candle", "Vase", "Mirror"]),
    "Outdoors": ("#2a9d8f", ["Lantern", "Flask", "Backpack", "Tent Peg", "Compass", "Hammock"]),
    "Stationery": ("#e9a03b", ["Pen", "Pencil Case", "Ruler", "Stapler", "Ink", "Envelope"]),
    "Toys": ("#d1495b", ["Kite", "Puzzle", "Yo-yo", "Spinning Top", "Blocks", "Marbles"]),
    "Bath": ("#5e8c9c", ["Towel", "Soap", "Sponge", "Bath Mat", "Robe", "Brush"]),
    "Clothing": ("#6d597a", ["T-shirt", "Hoodie", "Jumper", "Shirt", "Cardigan", "Jacket"]),
}
ADJECTIVES = [
    "Classic", "Oak", "Copper", "Linen", "Enamel", "Stoneware", "Walnut", "Travel", "Handmade",
    "Everyday", "Large", "Small", "Striped", "Vintage", "Recycled", "Bamboo", "Ceramic", "Woollen",
]  # fmt: skip
DESCRIPTIONS = [
    "Made to last and easy to care for.",
    "A small-batch piece from a workshop we know well.",
    "Simple, sturdy and good-looking on any shelf.",
    "Our customers' favourite for years, now in new colours.",
    "Light enough to carry, tough enough for daily use.",
]
BATCH_SIZE = 1000


# Delivery at home: (name, price, free from, estimate), in a currency with cents; a currency
# without them (yen) gets a hundred times as many whole units.
DOMESTIC_METHODS = [
    ("Standard", Decimal("5.00"), Decimal("50.00"), "3-5 working days"),
    ("Express", Decimal("15.00"), None, "1-2 working days"),
]
# (country, name, rate %) beside the store country's HOME_TAX, which an entry here replaces.
DEMO_TAX_RATES = [("GB", "VAT", Decimal("20.000"))]
HOME_TAX = ("Sales tax", Decimal("8.000"))
WELCOME_CODE = "WELCOME10"


@dataclass(frozen=True)
class DemoPricingResult:
    zones_created: int
    methods_created: int
    tax_rates_created: int
    vouchers_created: int


@dataclass(frozen=True)
class DemoSeedResult:
    categories_created: int
    products_created: int
    seconds: float


# Clothing comes in sizes and colours: one variant per combination, a little dearer in XL.
SIZES = ["S", "M", "L", "XL"]
COLOURS = ["Navy", "Sand", "Forest"]
XL_SURCHARGE = Decimal("2.00")

# Pictures, drawn here so the demo needs nothing from the network: two views per category (a
# product has the first or both, in turn), and for clothing one per colour. Each file's
# renditions are made when it is drawn: a few files, as making them is most of a seed's work.
VIEWS = {"front": "{}", "side": "{}, from the side"}
COLOUR_FILLS = {"Navy": "#1f2a44", "Sand": "#d8c3a0", "Forest": "#2f5d3a"}
PICTURE_SIZE = (800, 600)
SHIRT = [(290, 110), (350, 90), (400, 120), (450, 90), (510, 110), (620, 190), (570, 260),
         (520, 230), (520, 520), (280, 520), (280, 230), (230, 260), (180, 190)]  # fmt: skip


@dataclass(frozen=True)
class DemoPicture:
    name: str  # the file, in the pictures' storage
    alt: str  # with {} for the product's name
    renditions: dict


def _draw(view, color):
    image = Image.new("RGB", PICTURE_SIZE, color if view in VIEWS else "#f1ede6")
    draw = ImageDraw.Draw(image)
    if view == "front":
        draw.ellipse((250, 150, 550, 450), fill="#ffffff")
        draw.rectangle((340, 240, 460, 360), fill=color)
    elif view == "side":
        draw.rounded_rectangle((160, 220, 640, 380), radius=40, fill="#ffffff")
        draw.rectangle((200, 280, 600, 320), fill=color)
    else:  # a colour of clothing
        draw.polygon(SHIRT, fill=COLOUR_FILLS[view], outline="#ffffff")
    return image


def _demo_pictures():
    """{category name: [DemoPicture]}: the files drawn once, and their renditions made once
    (catalog.images.renditions_make; a rerun reuses those its pictures record while their files
    are there), a few at a time: the encoders let other threads run."""
    storage = picture_storage()
    wanted = {}  # file name: (view, colour)
    pictures = {}
    for category_name, (color, _) in CATEGORIES.items():
        if category_name == "Clothing":
            views = {colour: f"{{}} in {colour}" for colour in COLOURS}
        else:
            views = VIEWS
        pictures[category_name] = []
        for view, alt in views.items():
            name = f"demo/{slugify(category_name)}-{slugify(view)}.png"
            wanted[name] = (view, color)
            pictures[category_name].append((name, alt))
    recorded = {
        name: ProductImage.objects.filter(image=name).values_list("renditions", flat=True).first()
        for name in wanted
    }

    def renditions(name):
        if not storage.exists(name):
            buffer = io.BytesIO()
            _draw(*wanted[name]).save(buffer, format="PNG", optimize=True)
            storage.save(name, ContentFile(buffer.getvalue()))
        record = recorded.get(name)
        if renditions_current(record, name) and all(
            storage.exists(file["name"]) for file in record["files"]
        ):
            return record
        return renditions_make(name, storage)

    with ThreadPoolExecutor(max_workers=4) as pool:
        records = dict(zip(wanted, pool.map(renditions, wanted), strict=True))
    return {
        category_name: [DemoPicture(name, alt, records[name]) for name, alt in files]
        for category_name, files in pictures.items()
    }


def _price(rng):
    price = Decimal(rng.randrange(199, 25000)) / 100
    if not fits_currency(price, settings.STORE_CURRENCY):  # a store in yen: whole units
        price = Decimal(rng.randrange(199, 25000))
    return price


def _stock(rng, high=120):
    return 0 if rng.random() < 0.08 else rng.randrange(1, high)


def _variant_plan(rng, category_name, sku):
    """[(sku, price, stock, {option: value})] for one product: one variant, or a grid."""
    price = _price(rng)
    if category_name != "Clothing":
        return [(sku, price, _stock(rng), {})]
    surcharge = XL_SURCHARGE if fits_currency(XL_SURCHARGE, settings.STORE_CURRENCY) else 0
    return [
        (
            f"{sku}-{size}-{colour[:3].upper()}",
            price + (surcharge if size == "XL" else 0),
            _stock(rng, high=30),
            {"Size": size, "Colour": colour},
        )
        for size in SIZES
        for colour in COLOURS
    ]


def demo_catalog_seed(*, products, seed=0, progress=None):
    """Create the demo categories and `products` demo products; a rerun adds only what is missing.

    Products are numbered (slugs ending demo-000001 onwards) so a second run with the same count
    skips every one, and a run with a larger count adds the rest. Most are simple products with
    one variant; clothing has a variant per size and colour. Products have one or two pictures
    (clothing one per colour), whose renditions are made once per file, here: pages show them
    at once, with nothing left for the worker. Everything is made in bulk.
    """
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 -- demo data wants repeatability, not secrecy
    categories = []
    categories_created = 0
    demo_pictures = _demo_pictures()
    for name in CATEGORIES:
        category, created = Category.objects.get_or_create(
            slug=slugify(name),
            defaults={"name": name, "description": f"{name} essentials, chosen with care."},
        )
        categories_created += created
        categories.append((category, demo_pictures[name]))

    existing = set(Product.objects.filter(slug__contains="-demo-").values_list("slug", flat=True))
    now = timezone.now()
    created_total = 0
    batch = []  # (product, variant plan, pictures)
    for number in range(1, products + 1):
        category, pictures = categories[number % len(categories)]
        noun = rng.choice(CATEGORIES[category.name][1])
        name = f"{rng.choice(ADJECTIVES)} {noun}"
        plan = _variant_plan(rng, category.name, f"DEMO-{number:06d}")
        # Drawn for every number, made or not, so a rerun draws the same for the rest.
        description = f"{name}. {rng.choice(DESCRIPTIONS)}"
        slug = f"{slugify(name)}-demo-{number:06d}"
        if slug not in existing:
            prices = [price for _, price, _, _ in plan]
            product = Product(
                category=category,
                name=name,
                slug=slug,
                description=description,
                price_min=min(prices),
                price_max=max(prices),
                created=now - timedelta(minutes=number),
            )
            if category.name != "Clothing":  # the first view, or both, in turn
                pictures = pictures[: 1 + (number // len(categories)) % len(pictures)]
            batch.append((product, plan, pictures))
        if len(batch) == BATCH_SIZE or (number == products and batch):
            _create(batch)
            created_total += len(batch)
            batch = []
        if progress and (number % BATCH_SIZE == 0 or number == products):
            progress(number, products)
    catalog_changed()  # bulk_create sends no signals
    return DemoSeedResult(
        categories_created=categories_created,
        products_created=created_total,
        seconds=time.perf_counter() - started,
    )


def _demo_amount(amount):
    """A demo amount in the store's currency: as written, or a hundred times as many whole
    units in a currency without cents (yen)."""
    if amount is None or minor_unit_exponent(settings.STORE_CURRENCY):
        return amount
    return (amount * 100).quantize(Decimal(1))


@transaction.atomic
def demo_pricing_seed():
    """Delivery at home (STORE_COUNTRY), tax rates and a welcome code; a rerun adds only what is
    missing and changes nothing staff edited.

    The "Worldwide" zone (rest of the world) that migration pricing/0002 made is left as it is.
    """
    home = settings.STORE_COUNTRY
    zone = ShippingZone.objects.filter(name="Domestic").first()
    listed = ShippingZone.objects.filter(countries__contains=home).exists()
    zones_created = zone is None and not listed
    if zones_created:  # not when staff have put the store's country in a zone of their own
        zone = ShippingZone.objects.create(name="Domestic", countries=[home])
    methods_created = 0
    for name, price, free_from, estimate in DOMESTIC_METHODS if zone else []:
        _, created = ShippingMethod.objects.get_or_create(
            zone=zone,
            name=name,
            defaults={
                "price": _demo_amount(price),
                "free_from": _demo_amount(free_from),
                "delivery_estimate": estimate,
            },
        )
        methods_created += created
    rates = {home: HOME_TAX}
    rates.update({country: (name, rate) for country, name, rate in DEMO_TAX_RATES})
    tax_rates_created = 0
    for country, (name, rate) in rates.items():
        _, created = TaxRate.objects.get_or_create(
            country=country, region="", defaults={"name": name, "rate": rate}
        )
        tax_rates_created += created
    _, vouchers_created = Voucher.objects.get_or_create(
        code=WELCOME_CODE,
        defaults={
            "description": "10% off, once per customer",
            "kind": VoucherKind.PERCENTAGE,
            "value": Decimal("10"),
            "once_per_customer": True,
        },
    )
    return DemoPricingResult(
        zones_created=int(zones_created),
        methods_created=methods_created,
        tax_rates_created=tax_rates_created,
        vouchers_created=int(vouchers_created),
    )


@transaction.atomic
def _create(batch):
    """Products, their pictures, options and variants, in a few bulk inserts (ids come back from
    them). Bulk inserts send no signals: the pictures queue no renditions, having theirs."""
    Product.objects.bulk_create([product for product, _, _ in batch])
    records = {}
    rows = []
    for product, _, pictures in batch:
        for position, picture in enumerate(pictures):
            records[picture.name] = picture.renditions
            rows.append(
                ProductImage(
                    product=product,
                    image=picture.name,
                    alt=picture.alt.format(product.name),
                    position=position,
                    width=picture.renditions["width"],
                    height=picture.renditions["height"],
                )
            )
    ProductImage.objects.bulk_create(rows)
    # The renditions' record, written a file at a time in one UPDATE: sent with every row, the
    # same JSON thousands of times over takes seconds.
    ProductImage.objects.filter(product__in=[product for product, _, _ in batch]).update(
        renditions=Case(
            *(
                When(image=name, then=Value(record, output_field=JSONField()))
                for name, record in records.items()
            ),
            default=F("renditions"),
        )
    )
    types, values, variants, choices = {}, {}, [], []
    for product, plan, _ in batch:
        for position, (sku, price, stock, options) in enumerate(plan):
            variant = ProductVariant(
                product=product, sku=sku, price=price, stock=stock, position=position,
                label=" / ".join(f"{name}: {value}" for name, value in options.items()),
            )  # fmt: skip
            variants.append(variant)
            for name, value in options.items():
                if (product.pk, name) not in types:
                    types[product.pk, name] = OptionType(
                        product=product, name=name, position=len(types) % 2
                    )
                choices.append((variant, (product.pk, name), value))
    OptionType.objects.bulk_create(types.values())
    order = {**{size: i for i, size in enumerate(SIZES)}, **{c: i for i, c in enumerate(COLOURS)}}
    for _, key, value in choices:
        if (key, value) not in values:
            values[key, value] = OptionValue(
                option_type=types[key], value=value, position=order.get(value, 0)
            )
    OptionValue.objects.bulk_create(values.values())
    by_variant = {}
    for variant, key, value in choices:
        by_variant.setdefault(id(variant), []).append(values[key, value])
    for variant in variants:
        variant.combination = combination_key(v.pk for v in by_variant.get(id(variant), []))
    ProductVariant.objects.bulk_create(variants)
    VariantOption.objects.bulk_create(
        VariantOption(variant=variant, option_type=types[key], value=values[key, value])
        for variant, key, value in choices
    )
