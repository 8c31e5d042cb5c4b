"""Back-office import and export of products as CSV (the format is catalog.csv_io's).

Import is three steps: upload (the file is checked and nothing is saved), a preview of what
would be created and changed or of every problem with its line number, and confirm. Between
preview and confirm the uploaded file waits in the media storage (shared by every app host, so
confirm may reach another one) under a random name that only the uploader's session knows, with
the file's SHA-256 beside it. The browser gets another random token for its confirm form, which
must match the session's; confirm reads the stored file back (never anything the browser sends
but that token) and checks it all again before writing. Waiting files are deleted on confirm,
on cancel, when the same person uploads another, and after a day by the next upload.
"""

import contextlib
import functools
import hashlib
import secrets
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_http_methods

from catalog.csv_io import (
    COLUMNS,
    MAX_UPLOAD_BYTES,
    PENDING_FOLDER,
    REQUIRED_COLUMNS,
    export_lines,
    import_products,
    size_problem,
)

SESSION_KEY = "catalog_product_import"
PENDING_MAX_AGE = timedelta(days=1)
SHOWN = 200  # changes, problems and warnings listed on the preview page


def product_csv_urls(model_admin):
    """The import and export views, for ProductAdmin.get_urls (before its own patterns)."""

    def wrap(view, methods):
        bound = functools.update_wrapper(functools.partial(view, model_admin), view)
        return model_admin.admin_site.admin_view(require_http_methods(methods)(bound))

    return [
        path("import/", wrap(import_upload, ["GET", "POST"]), name="catalog_product_import"),
        path(
            "import/confirm/",
            wrap(import_confirm, ["POST"]),
            name="catalog_product_import_confirm",
        ),
        path("export/", wrap(export_download, ["GET"]), name="catalog_product_export"),
    ]


def can_import(model_admin, request):
    return model_admin.has_add_permission(request) and model_admin.has_change_permission(request)


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8 CSV, at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
        widget=forms.FileInput(
            attrs={"accept": ".csv,text/csv", "data-max-bytes": MAX_UPLOAD_BYTES}
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = size_problem(upload.size, MAX_UPLOAD_BYTES)
        if problem:
            raise forms.ValidationError(str(problem))
        self.content = upload.read()
        return upload


def _context(model_admin, request, title, **extra):
    opts = model_admin.model._meta
    return {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "columns": COLUMNS,
        "required_columns": REQUIRED_COLUMNS,
        "max_bytes": MAX_UPLOAD_BYTES,
        **extra,
    }


def _preview(model_admin, request, result, *, file_name, token=None, confirmed=False):
    context = _context(
        model_admin,
        request,
        f"Import {file_name}: preview" if result.ok else f"Import {file_name}: problems",
        result=result,
        file_name=file_name,
        token=token,
        confirmed=confirmed,
        changes=result.changes[:SHOWN],
        problems=result.problems[:SHOWN],
        warnings=result.warnings[:SHOWN],
        changes_hidden=max(len(result.changes) - SHOWN, 0),
        problems_hidden=max(len(result.problems) - SHOWN, 0),
        warnings_hidden=max(len(result.warnings) - SHOWN, 0),
    )
    status = 200 if result.ok else 400
    return TemplateResponse(request, "admin/catalog/import_preview.html", context, status=status)


def import_upload(model_admin, request):
    if not can_import(model_admin, request):
        raise PermissionDenied
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if form.is_bound and form.is_valid():
        file_name = form.cleaned_data["file"].name[:100]
        result = import_products(form.content, dry_run=True)
        if result.ok or result.rows:
            # Only a file that would change something waits for confirmation.
            if result.ok and result.changes:
                token = _pending_save(request, form.content, file_name)
            else:
                token = None
            return _preview(model_admin, request, result, file_name=file_name, token=token)
        # Nothing could be read as rows (not a CSV, wrong columns): say so on the form.
        for problem in result.problems:
            form.add_error("file", str(problem))
    context = _context(model_admin, request, "Import products", form=form)
    status = 400 if form.is_bound else 200
    return TemplateResponse(request, "admin/catalog/import.html", context, status=status)


def import_confirm(model_admin, request):
    if not can_import(model_admin, request):
        raise PermissionDenied
    pending = request.session.get(SESSION_KEY)
    token = request.POST.get("token", "")
    if not pending or not constant_time_compare(token, pending["token"]):
        messages.error(
            request,
            "That import is no longer waiting to be confirmed (it was confirmed or cancelled, "
            "or another file was uploaded since): upload the file again.",
        )
        return redirect("admin:catalog_product_import")
    file_name = pending["file_name"]
    data = _pending_read(pending)
    _pending_drop(request)
    if "cancel" in request.POST:
        messages.info(request, f"Import of {file_name} cancelled; nothing was saved.")
        return redirect("admin:catalog_product_changelist")
    if data is None:
        messages.error(request, "The uploaded file is no longer there: upload it again.")
        return redirect("admin:catalog_product_import")
    result = import_products(data)
    if not result.ok:
        # The catalogue changed since the preview (a SKU or slug taken meanwhile, ...).
        return _preview(model_admin, request, result, file_name=file_name, confirmed=True)
    if result.applied:
        messages.success(request, f"Imported {file_name}: {result.summary()}.")
    else:
        messages.info(request, f"{file_name} changes nothing: the catalogue already matches it.")
    for warning in result.warnings[:SHOWN]:
        messages.warning(request, str(warning))
    return redirect("admin:catalog_product_changelist")


def export_download(model_admin, request):
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    # The byte-order mark tells Excel the file is UTF-8; the import skips it.
    lines = export_lines()
    response = StreamingHttpResponse(_with_bom(lines), content_type="text/csv; charset=utf-8")
    name = f"products-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _with_bom(lines):
    yield "\ufeff"
    yield from lines


# --- The file waiting between preview and confirm --------------------------------------------


def _pending_save(request, data, file_name):
    _pending_drop(request)
    _pending_sweep()
    token = secrets.token_urlsafe(32)  # goes to the browser, in the confirm form
    # The stored name is another random one, which never leaves the server.
    name = default_storage.save(
        f"{PENDING_FOLDER}{secrets.token_urlsafe(32)}.csv", ContentFile(data)
    )
    request.session[SESSION_KEY] = {
        "token": token,
        "name": name,
        "file_name": file_name,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return token


def _pending_read(pending):
    try:
        with default_storage.open(pending["name"], "rb") as handle:
            data = handle.read(MAX_UPLOAD_BYTES + 1)
    except OSError:
        return None
    if not constant_time_compare(hashlib.sha256(data).hexdigest(), pending["sha256"]):
        return None
    return data


def _pending_drop(request):
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        with contextlib.suppress(OSError):
            default_storage.delete(pending["name"])


def _pending_sweep():
    """Delete files left waiting for more than a day (previews never confirmed nor cancelled)."""
    try:
        _, files = default_storage.listdir(PENDING_FOLDER)
    except OSError:
        return
    cutoff = timezone.now() - PENDING_MAX_AGE
    for file in files:
        name = f"{PENDING_FOLDER}{file}"
        try:
            if default_storage.get_modified_time(name) < cutoff:
                default_storage.delete(name)
        except OSError:
            continue
