"""Checks on uploaded product images: a real picture, of an allowed kind, of a sane size."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "GIF": "GIF"}
MAX_PIXELS_PER_SIDE = 6000


def validate_product_image(file):
    # Files already stored (an unchanged image on an edit) were checked when uploaded.
    if getattr(file, "_committed", False):
        return
    limit = settings.MAX_IMAGE_UPLOAD_BYTES
    if file.size > limit:
        raise ValidationError(
            "The image is %(size)s; the limit is %(limit)s.",
            code="image_too_large",
            params={"size": filesizeformat(file.size), "limit": filesizeformat(limit)},
        )
    file.seek(0)
    try:
        # Pillow reads the header only: it names the real format whatever the file is called.
        with Image.open(file) as image:
            image_format, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            "This file is not an image we can read. Upload a JPEG, PNG, WebP or GIF picture.",
            code="invalid_image",
        ) from exc
    finally:
        file.seek(0)
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(
            "%(format)s images are not accepted. Upload a JPEG, PNG, WebP or GIF picture.",
            code="image_format",
            params={"format": image_format},
        )
    if max(width, height) > MAX_PIXELS_PER_SIDE:
        raise ValidationError(
            "The image is %(width)s x %(height)s pixels; the limit is %(max)s on each side.",
            code="image_dimensions",
            params={"width": width, "height": height, "max": MAX_PIXELS_PER_SIDE},
        )
