"""Request bodies and uploads: how much each view may be sent, and which views take files.

Django writes every file part of a multipart body to memory or a temporary file as soon as
anything reads request.POST (the CSRF check does), whatever view the request is for. So the
size is checked against Content-Length before the body is read (shop.middleware.
RequestBodyLimitMiddleware), and a file part sent to a view without an upload is refused before
its first byte is stored (FilesOnlyWhereExpectedHandler).
"""

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.core.files.uploadhandler import FileUploadHandler
from django.urls import Resolver404, resolve


class UnexpectedFileUpload(SuspiciousOperation):
    """A file part sent to a view that takes none; Django answers SuspiciousOperation with 400."""


def takes_uploads(request):
    match = getattr(request, "resolver_match", None)
    if match is None:
        # Only if something parsed the body before Django resolved the URL.
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return False
    return match.view_name in settings.UPLOAD_VIEWS


def body_limit(request):
    """The most bytes the request's view may be sent, or None for no limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and takes_uploads(request):
        # The picture plus the form's other fields (and the multipart framing).
        limit += settings.MAX_IMAGE_UPLOAD_BYTES
    return limit


def content_length(request):
    # Django reads a missing or malformed Content-Length as 0, so the body is not read either.
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class FilesOnlyWhereExpectedHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: refuses a file part unless the view takes uploads, before
    the handlers after it open a file for it; otherwise passes every chunk on unchanged."""

    def new_file(self, field_name, file_name, *args, **kwargs):
        if not takes_uploads(self.request):
            raise UnexpectedFileUpload(
                f"A file part ({field_name!r}) was sent to a view that takes no upload."
            )
        super().new_file(field_name, file_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None
