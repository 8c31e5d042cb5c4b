"""Media files on S3-compatible object storage, when MEDIA_S3_BUCKET is set (shop/settings.py).

The store reaches media only through Django's storage API (catalog.images, the product import),
so this class is all that changes: each object gets its Content-Type and Cache-Control as it is
written, every call has timeouts and a bounded number of tries, and a storage that cannot be
reached raises MediaStorageError, an OSError, as a local disk that failed would.
"""

import contextlib
import mimetypes
import pathlib
import posixpath
from collections.abc import Iterator
from urllib.parse import urlsplit

from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.exceptions import RetriesExceededError
from storages.backends.s3 import S3File, S3Storage
from storages.utils import clean_name

from shop.media_errors import MediaStorageError

# Renditions are never rewritten with other content under the same name: their names carry
# the encoding's version (catalog.images.rendition_name) and come from an original's name,
# which is new for every upload (MediaStorage.generate_filename).
RENDITION_CACHE_CONTROL = "public, max-age=31536000, immutable"
# Originals are shown only until their renditions exist, and a file named in a product import
# may be replaced in place by whoever manages the bucket: a day, not a year.
ORIGINAL_CACHE_CONTROL = "public, max-age=86400"
# Anything else (an import file waiting for confirmation) is no one's to cache.
PRIVATE_CACHE_CONTROL = "private, no-store"

# What boto3 raises on the calls below: no connection or answer in time (BotoCoreError), an
# error answer (ClientError), a download that failed (s3transfer's RetriesExceededError).
_FAILURES = (BotoCoreError, ClientError, RetriesExceededError)


def is_rendition(name: str) -> bool:
    """True for a name catalog.images.rendition_name makes: `<original>.renditions/<file>`."""
    return posixpath.dirname(name).endswith(".renditions")


def cache_control(name: str) -> str:
    if is_rendition(name):
        return RENDITION_CACHE_CONTROL
    if (mimetypes.guess_type(name)[0] or "").startswith("image/"):
        return ORIGINAL_CACHE_CONTROL
    return PRIVATE_CACHE_CONTROL


class MediaFile(S3File):
    """A file opened for reading; its content is downloaded on the first read."""

    def _get_file(self):
        with self._storage.failures("read", self.name):
            return super()._get_file()

    # S3File's property holds S3File's own getter: point it at the one above.
    file = property(_get_file, S3File._set_file)


class MediaStorage(S3Storage):
    """django-storages' S3 backend as the store uses it (OPTIONS in STORAGES["default"]).

    Options besides S3Storage's: public_url, the address objects are served from (the bucket's
    own, or a CDN or custom domain in front of it): URLs are built from it alone, with no
    signature and no call to the storage, so drawing a page never waits on the storage;
    connect_timeout and read_timeout in seconds, and max_attempts, the tries each call gets
    (1: no retry).
    """

    # As on the local disk, saving under a name already taken saves under another name rather
    # than replacing what is there (django-storages' default is to replace it).
    file_overwrite = False

    def get_default_settings(self):
        return {
            **super().get_default_settings(),
            "public_url": None,
            "connect_timeout": 3.0,
            "read_timeout": 5.0,
            "max_attempts": 2,
        }

    def __init__(self, **options):
        super().__init__(**options)
        public = urlsplit(self.public_url or "")
        self.url_protocol = f"{public.scheme}:"
        self.custom_domain = public.netloc + public.path
        self.client_config = Config(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            # "standard": retries only what may succeed on a second try (timeouts, 5xx,
            # throttling), with a jittered pause. botocore's own "max_attempts" would count
            # retries only: total_max_attempts counts the first try too, as ours does.
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            s3={"addressing_style": self.addressing_style},
            # botocore adds CRC32 checksums to every upload by default since 1.36, which a
            # number of S3-compatible servers refuse: only where the API requires one.
            request_checksum_calculation="when_required",
        )
        # A download's request is retried by botocore as above; s3transfer would try the whole
        # download again on top (5 times by default), multiplying the time a hung storage holds
        # a worker.
        self.transfer_config = TransferConfig(num_download_attempts=1)

    @contextlib.contextmanager
    def failures(self, action: str, name: str) -> Iterator[None]:
        """Turn what boto3 raises into MediaStorageError, naming the bucket and the file."""
        try:
            yield
        except _FAILURES as exc:
            where = f"bucket {self.bucket_name!r}"
            if self.endpoint_url:
                where += f" at {self.endpoint_url}"
            # s3transfer's own error says only "Max Retries Exceeded": name what happened.
            cause = getattr(exc, "last_exception", None) or exc
            raise MediaStorageError(
                f"The media storage ({where}) failed to {action} {name!r}: "
                f"{type(cause).__name__}: {cause}"
            ) from exc

    def get_object_parameters(self, name: str) -> dict:
        params = super().get_object_parameters(name)
        # From the name, never from what the uploading browser declared.
        params["ContentType"] = mimetypes.guess_type(name)[0] or self.default_content_type
        params["CacheControl"] = cache_control(name)
        return params

    def generate_filename(self, filename: str) -> str:
        """Name an upload (Django's file fields call this; storage.save() alone does not).

        A random part makes every uploaded name one never used before, so a picture deleted
        and another uploaded under the same file name cannot share renditions' names, which
        browsers and CDNs keep for a year.
        """
        name = super().generate_filename(filename)
        folder, file_name = posixpath.split(name)
        extension = "".join(pathlib.PurePosixPath(file_name).suffixes)
        alternative = self.get_alternative_name(file_name.removesuffix(extension), extension)
        return posixpath.join(folder, alternative)

    def _open(self, name, mode="rb"):
        with self.failures("open", name):
            try:
                return MediaFile(self._normalize_name(clean_name(name)), mode, self)
            except ClientError as err:
                if err.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                    raise FileNotFoundError(f"File does not exist: {name}") from err
                raise

    def _save(self, name, content):
        with self.failures("save", name):
            return super()._save(name, content)

    def delete(self, name):
        with self.failures("delete", name):
            super().delete(name)

    def exists(self, name):
        with self.failures("look up", name):
            return super().exists(name)

    def listdir(self, path):
        with self.failures("list", path):
            return super().listdir(path)

    def size(self, name):
        with self.failures("look up", name):
            return super().size(name)

    def get_modified_time(self, name):
        with self.failures("look up", name):
            return super().get_modified_time(name)
