"""Product pictures: several per product, renditions made once, pages that draw them.

Real picture files (Pillow) in the test's media folder, real PostgreSQL, and the real task
worker (shop.tests.outbox.deliver_queued runs the queued tasks as `db_worker` does).
"""

import io
import os
import random
import subprocess
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from PIL import Image, ImageDraw, ImageFilter

from accounts.tests.factories import catalog_manager
from catalog.images import (
    WIDTHS,
    make_picture_renditions,
    product_pictures_set,
    rendition_folder,
)
from catalog.models import Product, ProductImage
from catalog.tests.factories import CategoryFactory, ProductFactory, product_with_options
from shop.tests.outbox import deliver_queued

pytestmark = pytest.mark.django_db

TASK_PATH = "catalog.images.make_picture_renditions"
VNU_JAR = (
    Path(settings.BASE_DIR) / "e2e" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
)
MB = 1024 * 1024


# --- Pictures ---------------------------------------------------------------------------------


def photo(size=(2000, 1500), image_format="JPEG", seed=0, mode="RGB", **save):
    """A picture with about as much detail as a product photo (a circuit board's photo is 34 KB
    at 400 px in WebP; these are 31 KB), as the bytes of a file in `image_format`."""
    rng = random.Random(seed)  # noqa: S311 -- repeatable pictures, not secrets
    width, height = size
    image = Image.new(mode, size, tuple(rng.randrange(60, 200) for _ in mode))
    draw = ImageDraw.Draw(image)
    for _ in range(2000 * width * height // (1600 * 1200) + 20):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(3, width // 25 + 4)
        colour = tuple(rng.randrange(256) for _ in mode)
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r // 2, x + r, y + r // 2), fill=colour)
    image = image.filter(ImageFilter.GaussianBlur(1))
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **save)
    return buffer.getvalue()


def upload(name="kettle.jpg", **kwargs):
    return SimpleUploadedFile(name, photo(**kwargs))


def stored_files():
    """Every file in the media folder (the test's own), relative to it."""
    root = Path(settings.MEDIA_ROOT)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def renditions_of(picture):
    """{(width, format): (name, opened size, opened format)} from the storage, through Pillow."""
    found = {}
    for file in picture.renditions["files"]:
        with default_storage.open(file["name"]) as handle, Image.open(handle) as image:
            found[file["width"], file["format"]] = (file["name"], image.size, image.format)
    return found


def rendition_tasks():
    return DBTaskResult.objects.filter(task_path=TASK_PATH)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what is deferred to the commit (file deletions) at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# --- HTML ------------------------------------------------------------------------------------


class Pictures(HTMLParser):
    """The <picture>/<img> elements of a page, with the card or block each is in."""

    def __init__(self):
        super().__init__()
        self.cards, self.images, self.links = [], [], []
        self._card = None
        self._picture = None
        self._link = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "article" and "product-card" in classes:
            self._card = {"pictures": []}
            self.cards.append(self._card)
        elif tag == "a":
            self._link = attrs
        elif tag == "picture":
            self._picture = {"attrs": attrs, "sources": [], "link": self._link}
        elif tag == "source" and self._picture is not None:
            self._picture["sources"].append(attrs)
        elif tag == "img":
            image = {"img": attrs, **(self._picture or {"sources": [], "link": self._link})}
            self.images.append(image)
            if self._card is not None:
                self._card["pictures"].append(image)
            if self._link is not None and "data-gallery-thumb" in self._link:
                self.links.append(image)

    def handle_endtag(self, tag):
        if tag == "article":
            self._card = None
        elif tag == "picture":
            self._picture = None
        elif tag == "a":
            self._link = None


def parse(html):
    parser = Pictures()
    parser.feed(html)
    return parser


def srcset(value):
    """[(url, width)] of a srcset attribute."""
    pairs = []
    for candidate in value.split(","):
        url, descriptor = candidate.split()
        pairs.append((url, int(descriptor.removesuffix("w"))))
    return pairs


def media_name(url):
    return unquote(url.removeprefix(settings.MEDIA_URL).removeprefix("/" + settings.MEDIA_URL))


class FormFields(HTMLParser):
    """What a browser sends for the admin's product form as it is shown (no files chosen)."""

    def __init__(self):
        super().__init__()
        self.fields, self._select, self._textarea, self._in_form = [], None, None, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "product_form":
            self._in_form = True
        if not self._in_form or ("name" not in attrs and tag != "option"):
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind == "file" or (kind == "submit" and attrs["name"] != "_save"):
                return
            self.fields.append(
                (attrs["name"], attrs.get("value", "on" if kind == "checkbox" else ""))
            )
        elif tag == "select":
            self._select = [attrs["name"], None, None]  # name, first option, selected option
        elif tag == "option" and self._select is not None:
            if self._select[1] is None:
                self._select[1] = attrs.get("value", "")
            if "selected" in attrs:
                self._select[2] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select is not None:
            name, first, selected = self._select
            self.fields.append((name, selected if selected is not None else (first or "")))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append(tuple(self._textarea))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


@pytest.fixture
def manager():
    client = Client()
    client.force_login(catalog_manager())
    return client


def change_form(client, product, **changes):
    """The product's change form as the page shows it, with `changes` (a field: value, or a
    file) made, as multipart data for the test client."""
    page = client.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert page.status_code == 200
    parser = FormFields()
    parser.feed(page.content.decode())
    data = {}
    for name, value in parser.fields:
        if "__prefix__" not in name:
            data.setdefault(name, value)
    data.update(changes)
    return data


# --- Renditions at upload ---------------------------------------------------------------------


def test_a_picture_added_in_the_back_office_gets_renditions_made_once_by_the_worker(manager):
    product = ProductFactory(name="Copper kettle")
    form = change_form(
        manager,
        product,
        **{
            "pictures-0-image": upload("kettle.jpg", size=(2000, 1500)),
            "pictures-0-alt": "The kettle from the front",
            "pictures-0-position": "0",
        },
    )

    response = manager.post(reverse("admin:catalog_product_change", args=[product.pk]), form)

    assert response.status_code == 302, response.content.decode()[:3000]
    picture = product.pictures.get()
    assert picture.alt == "The kettle from the front"
    # Saved with the picture, queued, not made in the request.
    assert picture.renditions == {}
    assert rendition_tasks().filter(args_kwargs__args=[picture.pk], status="READY").count() == 1
    assert not any(".renditions/" in name for name in stored_files())

    deliver_queued()

    picture.refresh_from_db()
    made = renditions_of(picture)
    assert sorted(made) == sorted(
        (width, image_format) for width in WIDTHS for image_format in ("WEBP", "JPEG")
    )
    for (width, image_format), (name, size, opened_format) in made.items():
        assert size == (width, width * 3 // 4)
        assert opened_format == image_format
        assert name.startswith(rendition_folder(picture.image.name) + "/")
    assert [f["bytes"] for f in picture.renditions["files"]] == [
        default_storage.size(f["name"]) for f in picture.renditions["files"]
    ]
    assert (picture.width, picture.height) == (2000, 1500)
    # Made once: running the worker again makes nothing.
    files = {name: os.stat(Path(settings.MEDIA_ROOT) / name).st_mtime_ns for name in stored_files()}
    assert make_picture_renditions.call(picture.pk) == "current"
    assert {n: os.stat(Path(settings.MEDIA_ROOT) / n).st_mtime_ns for n in stored_files()} == files


@pytest.mark.parametrize(
    ("size", "widths"),
    [
        ((300, 200), [300]),  # narrower than the smallest: one copy, at its own width
        ((1000, 750), [400, 800, 1000]),
        ((1700, 1000), [400, 800, 1600]),
        ((800, 1200), [400, 800]),  # portrait: by width
    ],
)
def test_renditions_are_never_wider_than_the_original(size, widths):
    picture = ProductImage.objects.create(
        product=ProductFactory(), image=ContentFile(photo(size=size), name="p.jpg")
    )

    make_picture_renditions.call(picture.pk)

    picture.refresh_from_db()
    made = renditions_of(picture)
    assert sorted({width for width, _ in made}) == widths
    for (width, _), (_, (opened_width, opened_height), _) in made.items():
        assert opened_width == width <= size[0]
        assert opened_height <= size[1]
        assert abs(opened_height - size[1] * width / size[0]) <= 1


@pytest.mark.parametrize(
    ("image_format", "mode", "formats"),
    [
        ("PNG", "RGBA", {"WEBP", "PNG"}),
        ("GIF", "P", {"WEBP", "PNG"}),  # GIF's 256 colours: the fallback is PNG
        ("WEBP", "RGB", {"WEBP"}),  # WebP already: one set
    ],
)
def test_renditions_come_in_webp_and_the_originals_format(image_format, mode, formats):
    data = photo(
        size=(1100, 700), image_format=image_format, mode="RGBA" if mode == "RGBA" else "RGB"
    )
    if mode == "RGBA":  # a transparent corner, to be kept
        with Image.open(io.BytesIO(data)) as image:
            image = image.copy()
        image.paste((0, 0, 0, 0), (0, 0, 100, 100))
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        data = buffer.getvalue()
    picture = ProductImage.objects.create(
        product=ProductFactory(), image=ContentFile(data, name=f"p.{image_format.lower()}")
    )

    make_picture_renditions.call(picture.pk)

    picture.refresh_from_db()
    made = renditions_of(picture)
    assert {opened for _, _, opened in made.values()} == formats
    assert {width for width, _ in made} == {400, 800, 1100}
    if mode == "RGBA":
        for name, _, _ in made.values():
            with default_storage.open(name) as handle, Image.open(handle) as image:
                assert image.convert("RGBA").getpixel((0, 0))[3] == 0


def test_renditions_are_turned_upright_as_the_camera_meant():
    image = Image.open(io.BytesIO(photo(size=(1200, 900))))
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": the picture is portrait
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes())
    picture = ProductImage.objects.create(
        product=ProductFactory(), image=ContentFile(buffer.getvalue(), name="phone.jpg")
    )

    make_picture_renditions.call(picture.pk)

    picture.refresh_from_db()
    assert (picture.width, picture.height) == (900, 1200)
    assert renditions_of(picture)[400, "JPEG"][1] == (400, 533)


def test_a_picture_that_cannot_be_read_fails_its_task_and_keeps_the_original_on_pages(client):
    product = ProductFactory()
    picture = ProductImage.objects.create(
        product=product, image=ContentFile(b"not a picture at all", name="broken.jpg")
    )

    deliver_queued()

    result = rendition_tasks().get(args_kwargs__args=[picture.pk])
    assert result.status == "FAILED"
    picture.refresh_from_db()
    assert picture.renditions == {}
    html = client.get(product.get_absolute_url()).content.decode()
    assert default_storage.url(picture.image.name) in html


# --- Nothing is made while a page is served ---------------------------------------------------


def test_pages_write_no_file_and_queue_nothing(client):
    made = ProductFactory(name="Made")
    ProductImage.objects.create(product=made, image=ContentFile(photo(size=(900, 600)), "a.jpg"))
    deliver_queued()
    pending = ProductFactory(name="Pending")
    waiting = ProductImage.objects.create(
        product=pending, image=ContentFile(photo(size=(900, 600)), "b.jpg")
    )
    files, tasks = stored_files(), rendition_tasks().count()

    pages = [
        client.get(reverse("catalog:product_list")),
        client.get(reverse("home")),
        client.get(made.get_absolute_url()),
        client.get(pending.get_absolute_url()),
    ]

    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert stored_files() == files
    assert rendition_tasks().count() == tasks
    # The picture still waiting for the worker is shown from its original meanwhile.
    assert default_storage.url(waiting.image.name) in pages[3].content.decode()


# --- make_renditions --------------------------------------------------------------------------


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("make_renditions", *args, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


def test_make_renditions_makes_what_is_missing_once_and_is_idempotent():
    DBTaskResult.objects.all().delete()  # as if the worker never ran
    shared = default_storage.save("demo/kitchen.png", ContentFile(photo((800, 600), "PNG")))
    one, two = ProductFactory(), ProductFactory()
    for product in (one, two):  # two products share one file, as the demo catalogue's do
        ProductImage.objects.create(product=product, image=shared)
    own = ProductImage.objects.create(product=one, image=ContentFile(photo((500, 400)), "o.jpg"))
    rendition_tasks().delete()
    before = stored_files()

    dry = run("--dry-run", "--verbosity", "2")

    assert "Would make renditions for 3 picture(s) (2 file(s))." in dry
    assert "would make: demo/kitchen.png (2 picture(s))" in dry
    assert stored_files() == before

    output = run()

    assert "Made renditions for 3 picture(s), copied them to 0; 0 file(s) failed." in output
    made = stored_files() - before
    # The shared file's renditions were made once: 400 and 800, in WebP and PNG.
    assert len([n for n in made if n.startswith("demo/kitchen.png.renditions/")]) == 4
    assert len([n for n in made if n.startswith(f"{own.image.name}.renditions/")]) == 4
    records = {p.pk: p.renditions for p in ProductImage.objects.all()}
    assert all(record["source"] for record in records.values())
    mtimes = {n: os.stat(Path(settings.MEDIA_ROOT) / n).st_mtime_ns for n in stored_files()}

    again = run()

    assert "Made renditions for 0 picture(s)" in again
    assert {n: os.stat(Path(settings.MEDIA_ROOT) / n).st_mtime_ns for n in stored_files()} == mtimes
    assert {p.pk: p.renditions for p in ProductImage.objects.all()} == records


def test_make_renditions_reports_files_it_cannot_read_and_fails():
    picture = ProductImage.objects.create(
        product=ProductFactory(), image=ContentFile(b"damaged", name="damaged.jpg")
    )
    good = ProductImage.objects.create(
        product=ProductFactory(), image=ContentFile(photo((500, 400)), name="good.jpg")
    )

    with pytest.raises(CommandError, match="1 file"):
        run()

    picture.refresh_from_db()
    good.refresh_from_db()
    assert picture.renditions == {}
    assert good.renditions["source"] == good.image.name  # the others are made all the same


# --- Files follow the rows --------------------------------------------------------------------


def test_deleting_a_picture_deletes_its_file_and_renditions(on_commit):
    product = ProductFactory()
    picture = ProductImage.objects.create(
        product=product, image=ContentFile(photo((900, 600)), "gone.jpg")
    )
    make_picture_renditions.call(picture.pk)
    picture.refresh_from_db()
    names = {picture.image.name, *(f["name"] for f in picture.renditions["files"])}
    assert names <= stored_files()

    with on_commit():
        picture.delete()

    assert not names & stored_files()
    assert not stored_files()


def test_a_file_shared_by_two_pictures_stays_until_the_last_goes(on_commit):
    shared = default_storage.save("demo/bath.jpg", ContentFile(photo((900, 600))))
    first = ProductImage.objects.create(product=ProductFactory(), image=shared)
    second_product = ProductFactory()
    ProductImage.objects.create(product=second_product, image=shared)
    make_picture_renditions.call(first.pk)
    deliver_queued()
    files = stored_files()
    assert len(files) == 1 + 4

    with on_commit():
        first.delete()
    assert stored_files() == files

    with on_commit():
        second_product.delete()  # its pictures go with it
    assert stored_files() == set()


def test_replacing_a_pictures_file_deletes_the_old_one_and_queues_the_new(on_commit):
    picture = ProductImage.objects.create(
        product=ProductFactory(), image=ContentFile(photo((900, 600)), "old.jpg")
    )
    make_picture_renditions.call(picture.pk)
    picture.refresh_from_db()
    old = {picture.image.name, *(f["name"] for f in picture.renditions["files"])}

    with on_commit():
        picture.image = ContentFile(photo((700, 500), seed=2), name="new.jpg")
        picture.save()

    assert not old & stored_files()
    picture.refresh_from_db()
    assert picture.renditions == {}
    assert rendition_tasks().filter(args_kwargs__args=[picture.pk], status="READY").exists()


# --- The cover --------------------------------------------------------------------------------


def test_the_cover_is_the_first_picture_by_position_with_or_without_the_annotation():
    product = ProductFactory(name="Teapot")
    assert Product.objects.get(pk=product.pk).cover_picture is None
    side = ProductImage.objects.create(
        product=product, image=ContentFile(photo((500, 400)), "side.jpg"), position=1
    )
    front = ProductImage.objects.create(
        product=product, image=ContentFile(photo((500, 400), seed=3), "front.jpg"), position=0
    )

    def covers():
        return (
            Product.objects.get(pk=product.pk).cover_picture.name,  # one query
            Product.objects.with_cover_picture().get(pk=product.pk).cover_picture.name,
        )

    assert covers() == (front.image.name, front.image.name)
    front.delete()
    assert covers() == (side.image.name, side.image.name)


def test_pictures_set_keeps_orders_adds_and_removes(on_commit):
    product = ProductFactory()
    a = default_storage.save("imports/a.jpg", ContentFile(photo((500, 400), seed=1)))
    b = default_storage.save("imports/b.jpg", ContentFile(photo((500, 400), seed=2)))
    c = default_storage.save("imports/c.jpg", ContentFile(photo((500, 400), seed=3)))
    product_pictures_set(product, [a, b])
    kept = product.pictures.get(image=b)
    kept.alt = "Side view"
    kept.save()

    with on_commit():
        product_pictures_set(product, [b, c])

    assert [(p.image.name, p.position) for p in product.pictures.all()] == [(b, 0), (c, 1)]
    assert product.pictures.get(image=b).alt == "Side view"
    assert a not in stored_files()
    assert Product.objects.get(pk=product.pk).cover_picture.name == b


# --- The model's rules ------------------------------------------------------------------------


def test_alt_text_defaults_to_the_products_name_and_is_never_empty():
    product = ProductFactory(name="  Enamel mug ")
    picture = ProductImage.objects.create(
        product=product, image=ContentFile(photo((50, 40)), "m.jpg")
    )
    assert picture.alt == "Enamel mug"

    with pytest.raises(IntegrityError), transaction.atomic():
        ProductImage.objects.filter(pk=picture.pk).update(alt="")


def test_a_picture_may_only_show_a_variant_of_its_own_product():
    shirt = product_with_options("Shirt", {"Size": ["S", "M"]})
    other = ProductFactory()
    picture = ProductImage(
        product=other, image=ContentFile(photo((50, 40)), "s.jpg"), variant=shirt.variants.first()
    )

    with pytest.raises(ValidationError) as error:
        picture.full_clean()
    assert "variant" in error.value.message_dict
    with pytest.raises(ValidationError):
        picture.save()
    assert not ProductImage.objects.exists()

    picture.product = shirt
    picture.full_clean()
    picture.save()
    assert picture.variant.product == shirt


def test_the_back_office_refuses_another_products_variant(manager):
    shirt = product_with_options("Shirt", {"Size": ["S", "M"]})
    mug = ProductFactory()
    form = change_form(
        manager,
        mug,
        **{
            "pictures-0-image": upload("mug.jpg", size=(200, 150)),
            "pictures-0-variant": str(shirt.variants.first().pk),
        },
    )

    response = manager.post(reverse("admin:catalog_product_change", args=[mug.pk]), form)

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not ProductImage.objects.exists()


def test_the_back_office_offers_only_the_products_own_variants(manager):
    shirt = product_with_options("Shirt", {"Size": ["S", "M"]})
    product_with_options("Hoodie", {"Size": ["L"]})

    page = manager.get(reverse("admin:catalog_product_change", args=[shirt.pk])).content.decode()

    start = page.index('name="pictures-0-variant"')
    options = page[start : page.index("</select>", start)]
    assert options.count("<option") == 1 + 2  # "---------" and S, M
    assert "Hoodie" not in options


def test_a_product_form_without_the_pictures_part_leaves_the_pictures_alone(manager):
    product = ProductFactory(name="Old name")
    picture = ProductImage.objects.create(
        product=product, image=ContentFile(photo((50, 40)), "k.jpg")
    )
    form = change_form(manager, product, name="New name")
    form = {key: value for key, value in form.items() if not key.startswith("pictures-")}

    response = manager.post(reverse("admin:catalog_product_change", args=[product.pk]), form)

    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "New name"
    assert list(product.pictures.all()) == [picture]


def bmp():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "#336699").save(buffer, format="BMP")
    return SimpleUploadedFile("photo.bmp", buffer.getvalue())


def noise_png(size_bytes, name):
    """A real PNG of about size_bytes: random pixels do not compress."""
    side = int((size_bytes / 3) ** 0.5) + 1
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.mark.parametrize(
    ("upload_file", "message"),
    [
        (bmp(), "BMP images are not accepted"),
        (SimpleUploadedFile("huge.jpg", photo((6001, 10))), "the limit is 6000"),
    ],
)
def test_the_back_office_keeps_todays_upload_checks(manager, upload_file, message):
    product = ProductFactory()
    form = change_form(manager, product, **{"pictures-0-image": upload_file})

    response = manager.post(reverse("admin:catalog_product_change", args=[product.pk]), form)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ProductImage.objects.exists()


def test_the_back_office_takes_a_picture_of_up_to_5_mb_and_keeps_the_413_limit(manager):
    product = ProductFactory()
    url = reverse("admin:catalog_product_change", args=[product.pk])
    one = change_form(manager, product, **{"pictures-0-image": noise_png(4 * MB, "a.png")})

    taken = manager.post(url, one)

    assert taken.status_code == 302
    assert product.pictures.get().image.size > 4 * MB
    two = change_form(
        manager,
        product,
        **{
            "pictures-1-image": noise_png(4 * MB, "b.png"),
            "pictures-2-image": noise_png(4 * MB, "c.png"),
            "pictures-TOTAL_FORMS": "3",
        },
    )
    too_large = manager.post(url, two)  # 8 MB in one request: over the product pages' 7.5 MB
    assert too_large.status_code == 413
    assert product.pictures.count() == 1


# --- Pages ------------------------------------------------------------------------------------


def test_cards_draw_the_first_picture_with_srcset_sizes_width_height_and_lazy_loading(client):
    category = CategoryFactory(slug="kitchen")
    products = [ProductFactory(category=category, name=f"Kettle {n}") for n in range(6)]
    for n, product in enumerate(products):
        ProductImage.objects.create(
            product=product, image=ContentFile(photo((1700, 1275), seed=n), f"k{n}.jpg")
        )
        ProductImage.objects.create(  # a second picture, not on the card
            product=product, image=ContentFile(photo((500, 400), seed=9), f"s{n}.jpg"), position=5
        )
    deliver_queued()

    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("catalog:product_list"), {"category": "kitchen"}).content.decode()

    # The pictures come with the page's products, in the same query: none per card.
    assert len([q for q in queries if "catalog_productimage" in q["sql"]]) == 1
    cards = parse(html).cards
    assert len(cards) == 6
    for index, card in enumerate(cards):
        (picture,) = card["pictures"]
        (source,) = picture["sources"]
        img = picture["img"]
        assert source["type"] == "image/webp"
        assert [w for _, w in srcset(source["srcset"])] == [400, 800, 1600]
        assert [w for _, w in srcset(img["srcset"])] == [400, 800, 1600]
        assert all(url.endswith(".webp") for url, _ in srcset(source["srcset"]))
        assert all(url.endswith(".jpg") for url, _ in srcset(img["srcset"]))
        assert source["sizes"] == img["sizes"]
        assert "16rem" in img["sizes"]
        assert img["src"] == srcset(img["srcset"])[0][0]  # the 400 px copy, not the original
        assert (img["width"], img["height"]) == ("400", "300")
        assert img["alt"] == ""  # the card's link names the product already
        assert img["loading"] == ("eager" if index < 4 else "lazy")
    for picture in ProductImage.objects.all():  # no original in sight
        url = default_storage.url(picture.image.name)
        assert f'{url}"' not in html
        assert f"{url} " not in html


def test_the_product_page_shows_the_gallery_and_the_variants_pictures(client):
    shirt = product_with_options("Shirt", {"Colour": ["Navy", "Sand"]})
    navy = shirt.variants.get(label__contains="Navy")
    front = ProductImage.objects.create(
        product=shirt, image=ContentFile(photo((1200, 900)), "front.jpg"), alt="The shirt, front"
    )
    ProductImage.objects.create(
        product=shirt,
        image=ContentFile(photo((1200, 900), image_format="PNG", seed=4), "navy.png"),
        variant=navy,
        position=1,
    )
    deliver_queued()
    front.refresh_from_db()

    html = client.get(shirt.get_absolute_url()).content.decode()

    page = parse(html)
    main = page.images[0]
    assert main["img"]["alt"] == "The shirt, front"
    assert main["img"]["loading"] == "eager"
    assert main["img"]["fetchpriority"] == "high"
    assert main["img"]["itemprop"] == "image"
    assert (main["img"]["width"], main["img"]["height"]) == ("800", "600")
    assert main["img"]["src"].endswith("/800w.v1.jpg")
    assert "35rem" in main["img"]["sizes"]
    assert [w for _, w in srcset(main["sources"][0]["srcset"])] == [400, 800, 1200]
    thumbs = page.links
    assert len(thumbs) == 2
    assert [t["img"]["alt"] for t in thumbs] == ["The shirt, front", "Shirt"]
    assert all(t["img"]["loading"] == "lazy" and t["img"]["width"] == "96" for t in thumbs)
    # Without JavaScript a thumbnail leads to the larger picture.
    assert media_name(thumbs[0]["link"]["href"]) == front.renditions["files"][-1]["name"]
    assert thumbs[0]["link"]["href"].endswith("/1200w.v1.jpg")
    assert thumbs[1]["link"]["href"].endswith("/1200w.v1.png")
    assert thumbs[1]["link"]["data-variant-combination"] == navy.combination
    assert "data-variant-combination" not in thumbs[0]["link"]
    assert "js/product-gallery" in html
    assert '<span class="visually-hidden">Picture 2 of 2: </span>' in html


def test_a_product_with_one_picture_has_no_thumbnails_and_without_any_the_placeholder(client):
    single = ProductFactory()
    ProductImage.objects.create(product=single, image=ContentFile(photo((500, 400)), "one.jpg"))
    bare = ProductFactory()
    deliver_queued()

    single_html = client.get(single.get_absolute_url()).content.decode()
    bare_html = client.get(bare.get_absolute_url()).content.decode()

    assert not parse(single_html).links
    assert "product-gallery" not in single_html
    (placeholder,) = parse(bare_html).images
    assert "img/placeholder" in placeholder["img"]["src"]
    assert placeholder["img"]["alt"] == ""


def test_pages_with_pictures_are_valid_html(client, tmp_path):
    # A simple product: the option picker's markup is checked by the pages' own audit.
    kettle = ProductFactory()
    ProductImage.objects.create(product=kettle, image=ContentFile(photo((900, 600)), "a.jpg"))
    ProductImage.objects.create(
        product=kettle,
        image=ContentFile(photo((900, 600), seed=1), "b.jpg"),
        variant=kettle.variants.get(),
        position=1,
    )
    pending = ProductFactory()
    ProductImage.objects.create(
        product=pending, image=ContentFile(photo((300, 200), image_format="GIF"), "c.gif")
    )
    deliver_queued()
    ProductImage.objects.create(product=pending, image=ContentFile(photo((300, 200)), "d.jpg"))
    files = []
    for name, url in [
        ("list", reverse("catalog:product_list")),
        ("kettle", kettle.get_absolute_url()),
        ("pending", pending.get_absolute_url()),
    ]:
        path = tmp_path / f"{name}.html"
        path.write_bytes(client.get(url).content)
        files.append(str(path))

    result = subprocess.run(
        ["/usr/bin/java", "-jar", str(VNU_JAR), "--errors-only", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# --- The data migration -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_every_products_picture_into_a_first_picture():
    executor = MigrationExecutor(connection)
    before = [("catalog", "0006_remove_product_sku_price_stock")]
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        executor.loader.build_graph()
        apps = executor.loader.project_state(before).apps
        Category = apps.get_model("catalog", "Category")
        OldProduct = apps.get_model("catalog", "Product")
        category = Category.objects.create(name="Lamps", slug="lamps")
        name = default_storage.save("products/2025/01/lamp.jpg", ContentFile(photo((900, 600))))
        OldProduct.objects.create(category=category, name="Desk lamp", slug="lamp", image=name)
        OldProduct.objects.create(category=category, name="No picture", slug="bare")

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    finally:
        MigrationExecutor(connection).migrate(latest)

    lamp = Product.objects.get(slug="lamp")
    picture = lamp.pictures.get()
    assert (picture.image.name, picture.alt, picture.position) == (name, "Desk lamp", 0)
    assert not Product.objects.get(slug="bare").pictures.exists()
    # The renditions come from the command, afterwards.
    assert picture.renditions == {}
    run()
    picture.refresh_from_db()
    assert {f["width"] for f in picture.renditions["files"]} == {400, 800}


@pytest.mark.django_db(transaction=True)
def test_product_image_goes_with_every_file_it_held_kept_as_a_picture_and_comes_back_on_undo():
    executor = MigrationExecutor(connection)
    before = [("catalog", "0008_product_pictures_from_image")]
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(before)
        executor.loader.build_graph()
        apps = executor.loader.project_state(before).apps
        Category = apps.get_model("catalog", "Category")
        OldProduct = apps.get_model("catalog", "Product")
        OldPicture = apps.get_model("catalog", "ProductImage")
        category = Category.objects.create(name="Lamps", slug="lamps")
        lamp_file = default_storage.save("products/2026/01/lamp.jpg", ContentFile(b"jpg"))
        shelf_file = default_storage.save("products/2026/01/shelf.jpg", ContentFile(b"jpg"))
        side_file = default_storage.save("products/2026/01/shelf-side.jpg", ContentFile(b"jpg"))
        # As catalog.images kept it: the field holds the first picture's file.
        lamp = OldProduct.objects.create(
            category=category, name="Desk lamp", slug="lamp", image=lamp_file
        )
        OldPicture.objects.create(product=lamp, image=lamp_file, alt="Desk lamp", position=0)
        # Written by a bulk query since 0008 (no signals): a file only in the field.
        shelf = OldProduct.objects.create(
            category=category, name="Oak shelf", slug="shelf", image=shelf_file
        )
        OldPicture.objects.create(product=shelf, image=side_file, alt="From the side", position=0)
        OldProduct.objects.create(category=category, name="No picture", slug="bare")

        executor = MigrationExecutor(connection)
        executor.migrate(latest)

        with connection.cursor() as cursor:
            table = connection.introspection.get_table_description(cursor, "catalog_product")
        assert "image" not in {column.name for column in table}
        pictures = {
            slug: list(
                ProductImage.objects.filter(product__slug=slug).values_list(
                    "image", "alt", "position"
                )
            )
            for slug in ("lamp", "shelf", "bare")
        }
        assert pictures == {
            "lamp": [(lamp_file, "Desk lamp", 0)],
            "shelf": [(shelf_file, "Oak shelf", 0), (side_file, "From the side", 1)],
            "bare": [],
        }

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        executor.loader.build_graph()
        OldProduct = executor.loader.project_state(before).apps.get_model("catalog", "Product")
        restored = dict(OldProduct.objects.values_list("slug", "image"))
        assert restored == {"lamp": lamp_file, "shelf": shelf_file, "bare": ""}
    finally:
        MigrationExecutor(connection).migrate(latest)


# --- Page weight ------------------------------------------------------------------------------


def test_a_24_card_list_page_with_pictures_weighs_under_1_mb(client, capsys):
    category = CategoryFactory(slug="garden")
    originals = 0
    for n in range(24):
        product = ProductFactory(category=category, name=f"Planter {n}")
        data = photo((1600, 1200), seed=100 + n, quality=90)
        originals += len(data)
        ProductImage.objects.create(product=product, image=ContentFile(data, f"planter{n}.jpg"))
    deliver_queued()

    response = client.get(reverse("catalog:product_list"), {"category": "garden"})

    html = response.content
    cards = parse(html.decode()).cards
    assert len(cards) == 24
    smallest = wide = 0
    for card in cards:
        (picture,) = card["pictures"]
        candidates = srcset(picture["sources"][0]["srcset"])
        smallest += default_storage.size(media_name(candidates[0][0]))  # 400 px: a 1x screen
        wide += default_storage.size(media_name(candidates[1][0]))  # 800 px: a 2x screen
    total = len(html) + smallest
    with capsys.disabled():
        print(
            f"\n24-card list page: HTML {len(html) / 1024:.0f} KB + 24 pictures at 400 px (WebP) "
            f"{smallest / 1024:.0f} KB = {total / 1024:.0f} KB; at 800 px (2x screens) "
            f"{(len(html) + wide) / 1024:.0f} KB; the originals would be "
            f"{(len(html) + originals) / 1024:.0f} KB"
        )
    assert total < 1_000_000
