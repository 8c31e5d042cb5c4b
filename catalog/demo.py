"""A demonstration catalogue: categories, products and pictures, the same for the same seed."""

import io
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw

from catalog.cache import catalog_changed
from catalog.models import Category, Product
from shop.money import fits_currency

CATEGORIES = {
    "Kitchen": ("#c8553d", ["Mug", "Teapot", "Chopping Board", "Knife", "Colander", "Whisk"]),
    "Garden": ("#4f772d", ["Trowel", "Watering Can", "Planter", "Seed Tray", "Pruner", "Gloves"]),
    "Books": ("#3d5a80", ["Notebook", "Cookbook", "Atlas", "Field Guide", "Novel", "Sketchbook"]),
    "Home": ("#8d6a9f", ["Lamp", "Cushion", "Throw", "Candle", "Vase", "Mirror"]),
    "Outdoors": ("#2a9d8f", ["Lantern", "Flask", "Backpack", "Tent Peg", "Compass", "Hammock"]),
    "Stationery": ("#e9a03b", ["Pen", "Pencil Case", "Ruler", "Stapler", "Ink", "Envelope"]),
    "Toys": ("#d1495b", ["Kite", "Puzzle", "Yo-yo", "Spinning Top", "Blocks", "Marbles"]),
    "Bath": ("#5e8c9c", ["Towel", "Soap", "Sponge", "Bath Mat", "Robe", "Brush"]),
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


@dataclass(frozen=True)
class DemoSeedResult:
    categories_created: int
    products_created: int
    seconds: float


def _picture(category_name, color):
    """A simple picture per category, drawn here so the demo needs nothing from the network."""
    path = f"demo/{slugify(category_name)}.png"
    if not default_storage.exists(path):
        image = Image.new("RGB", (800, 600), color)
        draw = ImageDraw.Draw(image)
        draw.ellipse((250, 150, 550, 450), fill="#ffffff")
        draw.rectangle((340, 240, 460, 360), fill=color)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        default_storage.save(path, ContentFile(buffer.getvalue()))
    return path


def demo_catalog_seed(*, products, seed=0, progress=None):
    """Create the demo categories and `products` demo products; a rerun adds only what is missing.

    Products are numbered (SKU DEMO-000001 onwards) so a second run with the same count skips
    every row, and a run with a larger count adds the rest.
    """
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 -- demo data wants repeatability, not secrecy
    categories = []
    categories_created = 0
    for name, (color, _) in CATEGORIES.items():
        category, created = Category.objects.get_or_create(
            slug=slugify(name),
            defaults={"name": name, "description": f"{name} essentials, chosen with care."},
        )
        categories_created += created
        categories.append((category, _picture(name, color)))

    existing = Product.objects.filter(sku__startswith="DEMO-").count()
    now = timezone.now()
    batch = []
    created_total = 0
    for number in range(1, products + 1):
        category, picture = categories[number % len(categories)]
        noun = rng.choice(CATEGORIES[category.name][1])
        name = f"{rng.choice(ADJECTIVES)} {noun}"
        sku = f"DEMO-{number:06d}"
        price = Decimal(rng.randrange(199, 25000)) / 100
        if not fits_currency(price, settings.STORE_CURRENCY):  # a store in yen: whole units
            price = Decimal(rng.randrange(199, 25000))
        stock = 0 if rng.random() < 0.08 else rng.randrange(1, 120)
        batch.append(
            Product(
                category=category,
                name=name,
                slug=f"{slugify(name)}-{sku.lower()}",
                sku=sku,
                description=f"{name}. {rng.choice(DESCRIPTIONS)}",
                price=price,
                stock=stock,
                image=picture,
                created=now - timedelta(minutes=number),
            )
        )
        if len(batch) == BATCH_SIZE or number == products:
            # ignore_conflicts: rows a previous run made are skipped by their unique SKU.
            Product.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
            if progress:
                progress(number, products)
    created_total = Product.objects.filter(sku__startswith="DEMO-").count() - existing
    catalog_changed()  # bulk_create sends no signals
    return DemoSeedResult(
        categories_created=categories_created,
        products_created=created_total,
        seconds=time.perf_counter() - started,
    )
