"""Product pictures: renditions made once, files that follow their rows, and what pages draw.

Every picture (ProductImage) gets renditions at a few widths, each in WebP and in the original's
format (GIF gives PNG), made once by the worker (`make_picture_renditions`, queued with the
picture's save) or by `manage.py make_renditions` (the demo seeder makes its pictures' with
them), never while a page is served. They are stored
through the picture field's storage (the local media folder today, S3 later), beside the
original in a folder named after it:

    products/2026/11/kettle.jpg
    products/2026/11/kettle.jpg.renditions/400w.v1.webp, 400w.v1.jpg, 800w.v1.webp, ...

and recorded on the row (ProductImage.renditions: names, sizes in pixels and bytes), so a page
builds its srcset from the row alone, without asking the storage anything. Pictures that share a
file (the demo catalogue's, or rows copied by a migration) share its renditions: they are made
once per file. Deleting a picture deletes its file and renditions once no other row uses them.
"""

import contextlib
import io
import json
import logging
import posixpath
from functools import cached_property

from django.core.files.base import ContentFile
from django.db import transaction
from django_tasks import task
from PIL import Image, ImageOps, UnidentifiedImageError

from catalog.cache import catalog_changed
from catalog.models import ProductImage

logger = logging.getLogger(__name__)

# Widths of the renditions; an original narrower than the largest also gets one at its own width
# (so nothing is ever wider than the original, and the sharpest copy is not thrown away).
WIDTHS = (400, 800, 1600)
# Bump when the encoding below changes: new names, so no browser or CDN keeps a stale copy.
VERSION = 1
# The format of the fallback copies, by the original's. GIF's 256 colours make resized photos
# worse and larger, so GIFs fall back to PNG (of their first frame).
FALLBACK = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "GIF": "PNG", "WEBP": "WEBP"}
SAVE_OPTIONS = {
    "WEBP": {"quality": 75, "method": 4},
    "JPEG": {"quality": 82, "optimize": True, "progressive": True},
    "PNG": {"optimize": True},
}
EXTENSIONS = {"WEBP": "webp", "JPEG": "jpg", "PNG": "png"}
# The product page's thumbnails, in CSS pixels (their <img> width attribute).
THUMBNAIL_WIDTH = 96
ORIENTATION = 0x0112  # the EXIF tag
# Until a picture has renditions it is drawn from its original at this size (4:3, as the cards).
DEFAULT_SIZE = (800, 600)


class RenditionError(Exception):
    """The original cannot be read or turned into renditions (missing, damaged, unknown)."""


def picture_storage():
    return ProductImage._meta.get_field("image").storage


def renditions_current(renditions, name):
    """True if `renditions` (a row's record) were made from the file `name` as made today."""
    return (
        bool(renditions)
        and renditions.get("source") == name
        and renditions.get("version") == VERSION
    )


def rendition_widths(width):
    widths = [w for w in WIDTHS if w <= width]
    if not widths or (width >= widths[-1] * 1.25 and width < WIDTHS[-1]):
        widths.append(width)
    return widths


def rendition_folder(name):
    return f"{name}.renditions"


def rendition_name(name, width, image_format):
    return f"{rendition_folder(name)}/{width}w.v{VERSION}.{EXTENSIONS[image_format]}"


# --- Making renditions ----------------------------------------------------------------------


def renditions_make(name, storage=None):
    """Read the original `name` from storage, write its renditions there; return the record.

    Overwrites renditions of the same name (the same original and VERSION: the same pictures).
    """
    storage = storage or picture_storage()
    try:
        with storage.open(name, "rb") as file, Image.open(file) as image:
            source_format = image.format
            fallback = FALLBACK.get(source_format)
            if fallback is None:
                raise RenditionError(f"{source_format} pictures are not handled.")
            icc_profile = image.info.get("icc_profile")
            width, height = image.size
            if image.getexif().get(ORIENTATION) in (5, 6, 7, 8):  # a quarter turn to show it
                width, height = height, width
            if source_format in ("JPEG", "MPO"):
                # Decode at the smallest scale still at least as large as the largest rendition.
                image.draft("RGB", (WIDTHS[-1], WIDTHS[-1]))
            image = ImageOps.exif_transpose(image)  # what the camera meant: upright
            image = _normalised(image, fallback)
    except (OSError, UnidentifiedImageError, SyntaxError, Image.DecompressionBombError) as exc:
        raise RenditionError(f"{name}: {type(exc).__name__}: {exc}") from exc

    files = []
    for target in rendition_widths(width):
        size = (target, max(1, round(height * target / width)))
        resized = (
            image
            if size == image.size
            else image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        )
        for image_format in dict.fromkeys(("WEBP", fallback)):
            data = _encoded(resized, image_format, icc_profile)
            wanted = rendition_name(name, target, image_format)
            storage.delete(wanted)  # the same picture made again: replace it, keep the name
            saved = storage.save(wanted, ContentFile(data))
            files.append(
                {
                    "name": saved,
                    "format": image_format,
                    "width": size[0],
                    "height": size[1],
                    "bytes": len(data),
                }
            )
    return {
        "version": VERSION,
        "source": name,
        "width": width,
        "height": height,
        "fallback": fallback,
        "files": files,
    }


def _normalised(image, fallback):
    """RGB, or RGBA when the picture has transparency (and the fallback format keeps it)."""
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if transparent and fallback != "JPEG":
        return image.convert("RGBA")
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale down to 8 bits before anything else, or it turns white.
        image = image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def _encoded(image, image_format, icc_profile):
    options = dict(SAVE_OPTIONS[image_format])
    if icc_profile:
        options["icc_profile"] = icc_profile  # colours as the camera saw them; EXIF is dropped
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def source_renditions_ensure(name, *, force=False):
    """Give every picture stored as `name` current renditions, making them at most once.

    Returns "made", "copied" (another row of the same file had them), or "current".
    Raises RenditionError when the original cannot be read.
    """
    rows = ProductImage.objects.filter(image=name)
    records = list(rows.values_list("renditions", flat=True))
    if not records:
        return "current"  # deleted meanwhile
    done = next((r for r in records if renditions_current(r, name)), None)
    if done is not None and not force:
        if all(renditions_current(r, name) for r in records):
            return "current"
        _record(name, done)
        return "copied"
    _record(name, renditions_make(name))
    return "made"


def _record(name, record):
    """Write `record` on every row of the file `name`; delete what they recorded before and no
    longer need (renditions of an older VERSION) once that is committed."""
    with transaction.atomic():
        rows = ProductImage.objects.select_for_update().filter(image=name)
        before = {
            file["name"]
            for renditions in rows.values_list("renditions", flat=True)
            if renditions.get("source") == name
            for file in renditions.get("files", ())
        }
        rows.update(renditions=record, width=record["width"], height=record["height"])
        stale = before - {file["name"] for file in record["files"]}
        if stale:
            transaction.on_commit(lambda: _delete_files(stale), robust=True)
        catalog_changed()  # cached pages drew the original: draw the renditions now


# Stored by its path (catalog.images.make_picture_renditions) with every queued task: keep the
# name. Below the emails' priority: a batch of uploads never holds up a password reset.
@task(priority=-10)
def make_picture_renditions(picture_id):
    """Make one picture's renditions (and so those of every row sharing its file). Run by the
    worker; returns what happened, for its records."""
    name = ProductImage.objects.filter(pk=picture_id).values_list("image", flat=True).first()
    if name is None:
        return "skipped: no such picture"
    try:
        outcome = source_renditions_ensure(name)
    except RenditionError as exc:
        logger.error("picture %s: no renditions: %s", picture_id, exc)
        raise
    logger.info("picture %s (%s): renditions %s", picture_id, name, outcome)
    return outcome


# --- Rows and files ----------------------------------------------------------------------------


def picture_saved(picture, *, old_name, old_renditions, file_changed):
    """After a ProductImage save (ProductImage.save): queue the renditions of a new file, drop
    the file it replaced."""
    name = picture.image.name
    if file_changed and not renditions_current(picture.renditions, name):
        make_picture_renditions.enqueue(picture.pk)  # in the caller's transaction
    if old_name and old_name != name:
        files_delete_unused(old_name, old_renditions)
    catalog_changed()


def picture_deleted(picture):
    """After a ProductImage is deleted (itself or with its product)."""
    files_delete_unused(picture.image.name, picture.renditions)
    catalog_changed()


def files_delete_unused(name, renditions):
    """Once committed, delete the original `name` and its renditions if no row uses it any more.

    Checked after the commit, so a row that took the file in the same transaction (a copy) keeps
    it.
    """
    if not name:
        return

    def delete():
        if ProductImage.objects.filter(image=name).exists():
            return
        storage = picture_storage()
        names = {file["name"] for file in (renditions or {}).get("files", ())}
        folder = rendition_folder(name)
        # and anything an interrupted run left in the renditions' folder
        with contextlib.suppress(FileNotFoundError, NotImplementedError):
            names.update(posixpath.join(folder, file) for file in storage.listdir(folder)[1])
        _delete_files(names | {name})

    transaction.on_commit(delete, robust=True)


def _delete_files(names):
    storage = picture_storage()
    for name in sorted(names):
        storage.delete(name)


@transaction.atomic
def product_pictures_set(product, names):
    """Make the product's pictures exactly these stored files, in this order (for imports).

    Rows whose file stays keep their alt text, variant and renditions; new ones get renditions
    queued; the others are deleted (and their files, if nothing else uses them).
    """
    existing = {}
    for picture in product.pictures.all():
        existing.setdefault(picture.image.name, []).append(picture)
    for position, name in enumerate(names):
        kept = existing.get(name)
        picture = kept.pop(0) if kept else ProductImage(product=product, image=name)
        if picture.pk is None or picture.position != position:
            picture.position = position
            picture.save()
    for pictures in existing.values():
        for picture in pictures:
            picture.delete()


# --- What templates draw ----------------------------------------------------------------------


class PictureSources:
    """One picture as the templates draw it, from the row's record alone (no storage calls but
    url(), which only builds a string)."""

    def __init__(self, *, name, alt, renditions, width=None, height=None, combination=""):
        self.name = name
        self.alt = alt
        self.renditions = renditions if renditions_current(renditions, name) else None
        self._size = (width, height)
        self.combination = combination  # the variant's, for the product page's script

    @classmethod
    def of(cls, picture):
        variant = picture.variant if picture.variant_id else None
        return cls(
            name=picture.image.name,
            alt=picture.alt,
            renditions=picture.renditions,
            width=picture.width,
            height=picture.height,
            combination=variant.combination if variant else "",
        )

    @classmethod
    def of_record(cls, data):
        """From ProductQuerySet.for_cards()'s cover (a JSON object), or None."""
        if not data:
            return None
        renditions = data.get("renditions") or {}
        if isinstance(renditions, str):  # SQLite nests the column as text
            renditions = json.loads(renditions)
        return cls(
            name=data["name"],
            alt=data["alt"],
            renditions=renditions,
            width=data.get("width"),
            height=data.get("height"),
        )

    @cached_property
    def _urls(self):
        storage = picture_storage()
        files = self.renditions["files"] if self.renditions else []
        return [(storage.url(file["name"]), file) for file in files]

    def _of_format(self, image_format):
        return [(url, file) for url, file in self._urls if file["format"] == image_format]

    @cached_property
    def _fallback(self):
        return self._of_format(self.renditions["fallback"]) if self.renditions else []

    @property
    def webp_srcset(self):
        """For <source type="image/webp">: "" when the fallback is WebP already."""
        if not self.renditions or self.renditions["fallback"] == "WEBP":
            return ""
        return _srcset(self._of_format("WEBP"))

    @property
    def srcset(self):
        return _srcset(self._fallback)

    @cached_property
    def original_url(self):
        return picture_storage().url(self.name)

    def _chosen(self, most_width):
        """The largest fallback copy at most `most_width` wide (else the smallest), or None."""
        fitting = [pair for pair in self._fallback if pair[1]["width"] <= most_width]
        return (fitting or self._fallback[:1] or [None])[-1]

    def _size_of(self, chosen):
        if chosen is not None:
            return chosen[1]["width"], chosen[1]["height"]
        if self._size[0] and self._size[1]:
            return self._size
        return DEFAULT_SIZE

    @property
    def src(self):
        """The smallest copy (a card's src), or the original until there are renditions."""
        chosen = self._chosen(0)
        return chosen[0] if chosen else self.original_url

    @property
    def width(self):
        """Of `src`: the <img>'s width and height give the browser the picture's shape."""
        return self._size_of(self._chosen(0))[0]

    @property
    def height(self):
        return self._size_of(self._chosen(0))[1]

    @property
    def medium_src(self):
        """The largest copy up to 800 pixels wide (the product page's main picture's src)."""
        chosen = self._chosen(WIDTHS[1])
        return chosen[0] if chosen else self.original_url

    @property
    def medium_width(self):
        return self._size_of(self._chosen(WIDTHS[1]))[0]

    @property
    def medium_height(self):
        return self._size_of(self._chosen(WIDTHS[1]))[1]

    @property
    def large_url(self):
        """The largest copy: where a thumbnail leads without JavaScript, and the picture of the
        product page's link previews (og:image). The original until there are renditions."""
        return self._fallback[-1][0] if self._fallback else self.original_url

    @property
    def large_width(self):
        """Of `large_url`, or None while it is the original (whose size may not be known)."""
        return self._fallback[-1][1]["width"] if self._fallback else None

    @property
    def large_height(self):
        return self._fallback[-1][1]["height"] if self._fallback else None

    @property
    def thumbnail_width(self):
        return THUMBNAIL_WIDTH

    @property
    def thumbnail_height(self):
        width, height = self._size_of(self._chosen(0))
        return max(1, round(THUMBNAIL_WIDTH * height / width))


def _srcset(pairs):
    return ", ".join(f"{url} {file['width']}w" for url, file in pairs)


def product_gallery(product):
    """Every picture of the product as PictureSources, in order (the first is the cover)."""
    pictures = product.pictures.all()
    if "pictures" not in getattr(product, "_prefetched_objects_cache", {}):
        pictures = pictures.select_related("variant")
    return [PictureSources.of(picture) for picture in pictures]


def product_cover(product):
    """The product's first picture as PictureSources, or None (the card's placeholder).

    From for_cards()'s annotation when there is one (no query); else one query.
    """
    if hasattr(product, "cover_picture_record"):
        return PictureSources.of_record(product.cover_picture_record)
    first = product.pictures.first()
    return PictureSources.of(first) if first else None
