"""Product pictures on S3-compatible object storage (shop.storage), against a real local server.

moto in server mode (shop.tests.s3), reached over HTTP by boto3 as a real bucket would be; the
pictures are made by the store's own code (the back office, the worker) and fetched back over
plain HTTP as a browser fetches them.
"""

import io
import logging
import re
import runpy
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from PIL import Image

from accounts.tests.factories import catalog_manager
from catalog.images import RenditionError, renditions_make
from catalog.models import ProductImage
from catalog.tests.factories import CategoryFactory, ProductFactory
from catalog.tests.test_pictures import change_form, parse, photo, srcset, upload
from shop.storage import (
    ORIGINAL_CACHE_CONTROL,
    PRIVATE_CACHE_CONTROL,
    RENDITION_CACHE_CONTROL,
    MediaStorageError,
)
from shop.tests import s3
from shop.tests.outbox import deliver_queued
from shop.tests.s3 import Bucket, S3Server, media_storage_settings

pytestmark = pytest.mark.django_db

CONTENT_TYPES = {"WEBP": "image/webp", "JPEG": "image/jpeg", "PNG": "image/png"}
SETTINGS_FILE = Path(django_settings.BASE_DIR) / "shop" / "settings.py"

# The run's server and each test's bucket (shop.tests.s3).
s3_server = s3.s3_server
media_on_s3 = s3.media_on_s3


@pytest.fixture
def manager():
    client = Client()
    client.force_login(catalog_manager())
    return client


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def own_server(settings):
    """A server of the test's own, to stop or freeze, as the store's media storage."""
    with S3Server() as server:
        name = server.create_bucket()
        settings.STORAGES = {
            **settings.STORAGES,
            "default": media_storage_settings(server.storage_options(name, read_timeout=2.0)),
        }
        yield server, Bucket(server, name)


def post_picture(client, product, file_name="kettle.jpg", size=(900, 600)):
    form = change_form(
        client,
        product,
        **{"pictures-0-image": upload(file_name, size=size), "pictures-0-position": "0"},
    )
    return client.post(reverse("admin:catalog_product_change", args=[product.pk]), form)


def opened(data):
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


# --- Uploads and renditions -------------------------------------------------------------------


def test_a_picture_uploaded_in_the_back_office_is_stored_in_the_bucket_with_its_renditions(
    manager, media_on_s3
):
    product = ProductFactory()

    response = post_picture(manager, product, "kettle.jpg", size=(1000, 750))

    assert response.status_code == 302
    picture = product.pictures.get()
    original = picture.image.name
    assert original.startswith("products/")
    assert original.endswith(".jpg")
    assert media_on_s3.keys() == {original}
    head = media_on_s3.head(original)
    assert head["ContentType"] == "image/jpeg"
    assert head["CacheControl"] == ORIGINAL_CACHE_CONTROL

    deliver_queued()

    picture.refresh_from_db()
    files = picture.renditions["files"]
    assert {(f["width"], f["format"]) for f in files} == {
        (width, image_format) for width in (400, 800, 1000) for image_format in ("WEBP", "JPEG")
    }
    assert media_on_s3.keys() == {original, *(f["name"] for f in files)}
    for file in files:
        assert file["name"].startswith(f"{original}.renditions/")
        head = media_on_s3.head(file["name"])
        assert head["ContentType"] == CONTENT_TYPES[file["format"]]
        assert head["CacheControl"] == RENDITION_CACHE_CONTROL
        assert head["ContentLength"] == file["bytes"]
        # And as a browser gets it, from the public address, without keys.
        status, headers, body = media_on_s3.fetch(default_storage.url(file["name"]))
        assert status == 200
        assert headers["Content-Type"] == CONTENT_TYPES[file["format"]]
        assert headers["Cache-Control"] == RENDITION_CACHE_CONTROL
        assert opened(body) == (file["format"], (file["width"], file["height"]))


def test_every_upload_gets_a_name_never_used_before_even_after_a_delete(
    manager, media_on_s3, on_commit
):
    product = ProductFactory()
    post_picture(manager, product, "IMG_0001.jpg")
    first = product.pictures.get().image.name
    with on_commit():
        product.pictures.get().delete()
    assert media_on_s3.keys() == set()

    post_picture(manager, product, "IMG_0001.jpg")
    post_picture(manager, ProductFactory(), "IMG_0001.jpg")

    names = set(ProductImage.objects.values_list("image", flat=True))
    assert len(names) == 2
    assert first not in names  # nor its renditions' names, cached for a year
    assert names == media_on_s3.keys()
    assert all(Path(name).name.startswith("IMG_0001_") for name in names | {first})


def test_the_stored_content_type_comes_from_the_name_not_from_the_browser(media_on_s3):
    name = default_storage.save(
        "products/2026/11/mug.png",
        ContentFile(photo((40, 30), image_format="PNG"), name="mug.png"),
    )
    declared = ContentFile(b"<script>alert(1)</script>", name="page.jpg")
    declared.content_type = "text/html"
    sneaky = default_storage.save("products/2026/11/page.jpg", declared)

    assert media_on_s3.head(name)["ContentType"] == "image/png"
    assert media_on_s3.head(sneaky)["ContentType"] == "image/jpeg"


def test_files_that_are_not_pictures_are_private_and_never_cached(media_on_s3):
    name = default_storage.save("imports/waiting.csv", ContentFile(b"slug,name\n"))

    assert media_on_s3.head(name)["CacheControl"] == PRIVATE_CACHE_CONTROL
    assert media_on_s3.head(name)["ContentType"] == "text/csv"
    # The bucket's policy (README) lets anyone read pictures, not import files.
    assert media_on_s3.fetch(default_storage.url(name))[0] == 403
    with default_storage.open(name) as handle:  # the store itself reads it with its keys
        assert handle.read() == b"slug,name\n"


def test_a_missing_original_is_file_not_found_and_its_renditions_a_clear_error(media_on_s3):
    with pytest.raises(FileNotFoundError):
        default_storage.open("products/2026/11/gone.jpg")

    with pytest.raises(RenditionError, match=r"products/2026/11/gone\.jpg: FileNotFoundError"):
        renditions_make("products/2026/11/gone.jpg")


# --- Pages ------------------------------------------------------------------------------------


def test_pages_draw_every_picture_from_the_public_address(client, media_on_s3):
    public = f"{media_on_s3.server.public_url(media_on_s3.name)}/"
    category = CategoryFactory(slug="kitchen")
    product = ProductFactory(category=category)
    picture = ProductImage.objects.create(
        product=product, image=ContentFile(photo((900, 600)), "teapot.jpg")
    )
    deliver_queued()
    picture.refresh_from_db()

    detail = parse(client.get(product.get_absolute_url()).content.decode())
    listing = parse(
        client.get(reverse("catalog:product_list"), {"category": "kitchen"}).content.decode()
    )

    main = detail.images[0]
    (card,) = listing.cards
    urls = [
        main["img"]["src"],
        *(url for url, _ in srcset(main["img"]["srcset"])),
        *(url for url, _ in srcset(main["sources"][0]["srcset"])),
        *(url for url, _ in srcset(card["pictures"][0]["img"]["srcset"])),
    ]
    expected = {public + f["name"] for f in picture.renditions["files"]}
    assert set(urls) == expected
    for url in expected:
        assert media_on_s3.fetch(url)[0] == 200


# --- Deleting ---------------------------------------------------------------------------------


def test_deleting_a_picture_in_the_back_office_deletes_its_original_and_every_rendition(
    manager, media_on_s3, on_commit
):
    product = ProductFactory()
    keep = ProductImage.objects.create(
        product=ProductFactory(), image=ContentFile(photo((500, 400), seed=2), "other.jpg")
    )
    picture = ProductImage.objects.create(
        product=product, image=ContentFile(photo((900, 600)), "gone.jpg")
    )
    deliver_queued()
    picture.refresh_from_db()
    keep.refresh_from_db()
    kept = {keep.image.name, *(f["name"] for f in keep.renditions["files"])}
    # A file an interrupted run left in the renditions' folder, recorded nowhere.
    stray = f"{picture.image.name}.renditions/400w.v0.webp"
    media_on_s3.put(stray, b"old")
    assert len(media_on_s3.keys() - kept) == 1 + 4 + 1
    form = change_form(manager, product, **{"pictures-0-DELETE": "on"})

    with on_commit():
        response = manager.post(reverse("admin:catalog_product_change", args=[product.pk]), form)

    assert response.status_code == 302
    assert not product.pictures.exists()
    assert media_on_s3.keys() == kept


# --- When the storage fails -------------------------------------------------------------------


def test_while_the_storage_is_down_pages_render_and_uploads_fail_clearly(
    client, manager, own_server, caplog, on_commit
):
    server, bucket = own_server
    category = CategoryFactory(slug="kitchen")
    product = ProductFactory(category=category)
    made = ProductImage.objects.create(
        product=product, image=ContentFile(photo((900, 600)), "made.jpg")
    )
    deliver_queued()
    waiting = ProductImage.objects.create(
        product=product, image=ContentFile(photo((600, 400), seed=5), "waiting.jpg"), position=1
    )
    made.refresh_from_db()
    form = change_form(
        manager,
        product,
        **{"pictures-2-image": upload("new.jpg", size=(300, 200)), "pictures-TOTAL_FORMS": "3"},
    )
    handle = default_storage.open(made.image.name)  # looked up; its content not read yet
    server.stop()

    pages = [
        client.get(product.get_absolute_url()),
        client.get(reverse("catalog:product_list"), {"category": "kitchen"}),
        client.get(reverse("home")),
    ]

    assert [page.status_code for page in pages] == [200, 200, 200]
    detail = pages[0].content.decode()
    for file in made.renditions["files"]:
        assert default_storage.url(file["name"]) in detail  # from the row's record alone
    assert default_storage.url(waiting.image.name) in detail  # its original, meanwhile

    where = re.escape(f"bucket '{bucket.name}' at {server.endpoint_url}")
    # What staff see: the store's "try again shortly" page, a 503, not a 500; the log says why.
    manager.raise_request_exception = False
    answer = manager.post(reverse("admin:catalog_product_change", args=[product.pk]), form)
    assert answer.status_code == 503
    assert answer["Retry-After"] == "30"
    assert re.search(rf"MediaStorageError: The media storage \({where}\)", caplog.text)
    assert product.pictures.count() == 2

    with pytest.raises(MediaStorageError, match="failed to read"):
        handle.read()
    for call in [
        lambda: default_storage.save("products/x.jpg", ContentFile(b"x")),
        lambda: default_storage.open(made.image.name),
        lambda: default_storage.exists(made.image.name),
        lambda: default_storage.size(made.image.name),
        lambda: default_storage.get_modified_time(made.image.name),
        lambda: default_storage.listdir("imports/"),
        lambda: default_storage.delete(made.image.name),
    ]:
        with pytest.raises(MediaStorageError, match=where):
            call()

    # A picture deleted meanwhile: its row goes, its files stay, and the log says which.
    with caplog.at_level(logging.ERROR), on_commit():
        made.delete()
    assert not ProductImage.objects.filter(pk=made.pk).exists()
    assert f"failed to list '{made.image.name}.renditions'" in caplog.text

    with caplog.at_level(logging.ERROR, logger="catalog.images"):
        deliver_queued()
    task = DBTaskResult.objects.get(
        task_path="catalog.images.make_picture_renditions", args_kwargs__args=[waiting.pk]
    )
    assert task.status == "FAILED"
    assert f"picture {waiting.pk}: no renditions" in caplog.text
    assert "MediaStorageError: The media storage" in caplog.text


def test_a_hung_storage_is_given_up_on_after_its_timeouts_and_one_retry(own_server):
    server, _ = own_server
    storage = storages["default"]  # what default_storage stands for
    name = storage.save("products/2026/11/a.jpg", ContentFile(photo((40, 30))))
    handle = storage.open(name)  # looked up; its content not read yet
    events = storage.connection.meta.client.meta.events
    steps = [
        ("look up", "HeadObject", lambda: storage.exists(name), 2.0),
        # After the download's own look-up worked.
        ("read", "GetObject", handle.read, 2.0),
        # After the look-up for a free name worked. An upload first waits up to a second for
        # the server's "100 Continue" before it sends the body anyway, then the read timeout.
        ("save", "PutObject", lambda: storage.save("b.jpg", ContentFile(b"b")), 3.0),
    ]
    for action, operation, call, one_try in steps:
        # The server hangs as this request goes out, and stays hung for every retry of it.
        event = f"before-send.s3.{operation}"
        events.register(event, lambda **kwargs: server.freeze(), unique_id="hang")
        started = time.monotonic()
        try:
            with pytest.raises(MediaStorageError, match=f"failed to {action} .*ReadTimeoutError"):
                call()
        finally:
            elapsed = time.monotonic() - started
            events.unregister(event, unique_id="hang")
            server.thaw()
        # Two tries and the pause between them (at most a second), where a third try would
        # have taken it to 3 x one_try at least.
        assert 2 * one_try <= elapsed < 3 * one_try, action


def test_a_bucket_that_is_not_there_is_named_in_the_error(s3_server):
    options = s3_server.storage_options("no-such-bucket")
    storage = storages.create_storage(media_storage_settings(options))

    with pytest.raises(MediaStorageError, match=r"bucket 'no-such-bucket' .* NoSuchBucket"):
        storage.save("products/a.jpg", ContentFile(b"jpg"))


def test_saving_under_a_taken_name_keeps_the_file_there(media_on_s3):
    first = default_storage.save("demo/kitchen.png", ContentFile(b"first"))
    second = default_storage.save("demo/kitchen.png", ContentFile(b"second"))

    assert first == "demo/kitchen.png"
    assert second != first
    with default_storage.open(first) as handle:
        assert handle.read() == b"first"


# --- How it talks to the server ---------------------------------------------------------------


def sent_requests(storage):
    """Record every request the storage's client sends: (method, url, headers)."""
    sent = []
    storage.connection.meta.client.meta.events.register(
        "before-send.s3",
        lambda request, **kwargs: sent.append((request.method, request.url, request.headers)),
    )
    return sent


def test_uploads_carry_no_checksum_the_api_does_not_require(media_on_s3):
    sent = sent_requests(storages["default"])  # the one default_storage stands for

    default_storage.save("products/2026/11/p.jpg", ContentFile(photo((40, 30))))

    (put,) = [headers for method, _, headers in sent if method == "PUT"]
    names = {name.lower() for name in put}
    assert not {n for n in names if n.startswith(("x-amz-checksum", "x-amz-sdk-checksum"))}
    assert "aws-chunked" not in put.get("Content-Encoding", "")


@pytest.mark.parametrize(
    ("style", "url"),
    [
        ("auto", "http://objects.example:9000/{bucket}/products/a.jpg"),
        ("virtual", "http://{bucket}.objects.example:9000/products/a.jpg"),
    ],
)
def test_the_addressing_style_decides_where_the_bucket_goes_in_requests(s3_server, style, url):
    options = s3_server.storage_options(
        "media", endpoint_url="http://objects.example:9000", addressing_style=style
    )
    storage = storages.create_storage(media_storage_settings(options))

    # Built as a request's would be, without sending anything.
    signed = storage.connection.meta.client.generate_presigned_url(
        "get_object", Params={"Bucket": "media", "Key": "products/a.jpg"}
    )

    assert signed.split("?")[0] == url.format(bucket="media")


# --- Settings ---------------------------------------------------------------------------------

MEDIA_VARIABLES = (
    "MEDIA_S3_BUCKET",
    "MEDIA_PUBLIC_URL",
    "MEDIA_S3_ENDPOINT_URL",
    "MEDIA_S3_REGION",
    "MEDIA_S3_ACCESS_KEY_ID",
    "MEDIA_S3_SECRET_ACCESS_KEY",
    "MEDIA_S3_ADDRESSING_STYLE",
    "MEDIA_S3_CONNECT_TIMEOUT",
    "MEDIA_S3_READ_TIMEOUT",
    "MEDIA_S3_MAX_ATTEMPTS",
)


@pytest.fixture
def read_settings(monkeypatch):
    """shop/settings.py as it reads this environment (the suite's, plus `variables`)."""

    def read(**variables):
        monkeypatch.setenv("ENV_FILE", "")
        for name in MEDIA_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return read


def test_without_a_bucket_media_stays_on_the_local_disk(read_settings):
    config = read_settings()

    assert config["STORAGES"]["default"]["BACKEND"].endswith("FileSystemStorage")
    assert config["MEDIA_URL"] == "media/"
    assert config["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"] == ["'self'", "data:"]


def test_the_environment_configures_the_bucket_its_address_and_its_timeouts(
    read_settings, s3_server
):
    bucket = s3_server.create_bucket()

    config = read_settings(
        **s3_server.environment(bucket),
        MEDIA_S3_CONNECT_TIMEOUT="1.5",
        MEDIA_S3_READ_TIMEOUT="4",
        MEDIA_S3_MAX_ATTEMPTS="3",
    )

    public = s3_server.public_url(bucket)
    assert config["MEDIA_URL"] == f"{public}/"
    assert s3_server.endpoint_url in config["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]
    storage = storages.create_storage(config["STORAGES"]["default"])
    client_config = storage.connection.meta.client.meta.config
    assert (client_config.connect_timeout, client_config.read_timeout) == (1.5, 4.0)
    assert client_config.retries == {"mode": "standard", "total_max_attempts": 3}
    name = storage.save("products/2026/11/a.jpg", ContentFile(photo((40, 30))))
    assert storage.url(name) == f"{public}/{name}"
    assert Bucket(s3_server, bucket).fetch(storage.url(name))[0] == 200


def test_a_bucket_on_aws_needs_no_endpoint_and_takes_the_region_and_keys_from_aws_defaults(
    read_settings, monkeypatch
):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "key-of-the-role")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-of-the-role")

    config = read_settings(
        MEDIA_S3_BUCKET="shop-media", MEDIA_PUBLIC_URL="https://media.shop.example/"
    )

    storage = storages.create_storage(config["STORAGES"]["default"])
    client = storage.connection.meta.client
    assert client.meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"
    assert client._request_signer._credentials.access_key == "key-of-the-role"
    assert storage.url("products/a.jpg") == "https://media.shop.example/products/a.jpg"
    assert config["MEDIA_URL"] == "https://media.shop.example/"
    assert (
        "https://media.shop.example" in config["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]
    )


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"MEDIA_S3_BUCKET": "media"}, "MEDIA_PUBLIC_URL must be"),
        ({"MEDIA_S3_BUCKET": "media", "MEDIA_PUBLIC_URL": "media.example"}, "MEDIA_PUBLIC_URL"),
        ({"MEDIA_S3_BUCKET": "media", "MEDIA_PUBLIC_URL": "ftp://m.example"}, "MEDIA_PUBLIC_URL"),
        ({"MEDIA_S3_BUCKET": "media", "MEDIA_PUBLIC_URL": "https:m.example"}, "MEDIA_PUBLIC_URL"),
        (
            {"MEDIA_S3_BUCKET": "media", "MEDIA_PUBLIC_URL": "https://m.example/?v=1"},
            "MEDIA_PUBLIC_URL",
        ),
        ({"MEDIA_S3_ADDRESSING_STYLE": "dns"}, "MEDIA_S3_ADDRESSING_STYLE must be"),
        ({"MEDIA_S3_CONNECT_TIMEOUT": "0"}, "MEDIA_S3_CONNECT_TIMEOUT and"),
        ({"MEDIA_S3_READ_TIMEOUT": "-1"}, "MEDIA_S3_CONNECT_TIMEOUT and"),
        ({"MEDIA_S3_MAX_ATTEMPTS": "0"}, "MEDIA_S3_MAX_ATTEMPTS 1 or more"),
    ],
)
def test_a_bucket_with_a_wrong_setting_stops_the_start_with_a_message(
    read_settings, variables, message
):
    if "MEDIA_S3_BUCKET" not in variables:
        variables = {
            "MEDIA_S3_BUCKET": "media",
            "MEDIA_PUBLIC_URL": "https://media.shop.example",
            **variables,
        }

    with pytest.raises(ImproperlyConfigured, match=message):
        read_settings(**variables)


def test_media_variables_without_a_bucket_are_refused_not_ignored(read_settings):
    with pytest.raises(ImproperlyConfigured) as error:
        read_settings(MEDIA_PUBLIC_URL="https://media.shop.example", MEDIA_S3_REGION="eu-west-1")

    assert str(error.value).startswith(
        "MEDIA_PUBLIC_URL, MEDIA_S3_REGION set but MEDIA_S3_BUCKET is not"
    )
