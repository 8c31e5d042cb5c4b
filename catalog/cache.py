"""Page caching of the catalogue, shared by every shopper, in the shared cache.

A catalogue page is rendered once for everybody: its personal parts (the header's cart count and
account links, the messages) are left as markers, the `{% personal %}` tag's, and the CSRF token
inside its forms as a placeholder. Each response fills them in for its own visitor: the header's
links from a copy this process keeps for each kind of visitor (anonymous, signed in, staff) with
the visitor's cart count (one small query, none without a session) and token put in. The
catalogue itself costs no query and no rendering, signed in or not.

Pages are keyed by a catalogue version that every change of a product or category, and every
product going out of stock or back in, increments once the change is committed, so a cached page
never outlives the data it shows (a TTL is only a backstop). The version is a row in PostgreSQL,
not a Redis key: it moves on even while Redis is away, so pages Redis kept from before are never
served again when it is back. Without Redis, pages are rendered (and not shared between
processes). Each process also keeps its most recent pages under the same keys.

The key is the page's address without its query string (scheme, host, path) and the query
parameters its view reads, nothing else: the cache sits in the Redis that holds the sessions, so
made-up parameters must not be able to fill it. For the same reason a view marks a page rendered
from values that are not in their canonical form (`?page=abc`, an unknown sort) with
`not_shared`, and such a page is shown, never stored.
"""

import functools
import hashlib
import re
import threading
import time
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils.http import urlencode

from cart.services import cart_count
from catalog.models import CatalogVersion

MAX_KEY_TEXT = 500  # host, path and read parameters: longer ones are rendered, not stored
PAGE_TTL = 300  # seconds; the version bump is what keeps pages fresh
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
CSRF_PLACEHOLDER = 'name="csrfmiddlewaretoken" value="__csrf__"'


def catalog_changed():
    """Call after any change shoppers could see: prices, stock, names, pictures, categories,
    and the shipping methods and tax rates the cart and checkout pages work out figures from.

    The version moves on once the change is committed (at once outside a transaction): a page
    rendered before that showed the old data under the old version, and one rendered after
    shows the new data under the new one. Run outside the transaction, the bump holds no lock
    of the change's, and a failure is logged without undoing the change.
    """
    transaction.on_commit(_bump, robust=True)


def _bump():
    CatalogVersion.objects.filter(pk=CatalogVersion.ROW).update(value=F("value") + 1)
    _memo["until"] = 0.0  # this process sees its own change at once


# Each process remembers the version for a moment: one query fewer per page, at the price of
# showing a change up to VERSION_MEMO seconds late (in other processes).
VERSION_MEMO = 1.0
_memo = {"version": None, "until": 0.0}


def catalog_version():
    now = time.monotonic()
    if _memo["version"] is not None and now < _memo["until"]:
        return _memo["version"]
    # get_or_create: the row is there from the migration, unless the table was emptied since.
    version = CatalogVersion.objects.get_or_create(pk=CatalogVersion.ROW)[0].value
    _memo.update(version=version, until=now + VERSION_MEMO)
    return version


_per_version = {}  # name -> (catalogue version, value)


def per_version(name, compute):
    """compute(), kept in this process until the catalogue version moves on: for what pages
    that are not cached whole show on every view and a catalogue change may alter."""
    version = catalog_version()
    kept = _per_version.get(name)
    if kept is None or kept[0] != version:
        kept = _per_version[name] = (version, compute())
    return kept[1]


# The pages this process served last, by the same versioned key: a popular page costs no round
# trip to Redis. A catalogue change gives every page a new key, so this never serves a page
# older than the version memo allows; the oldest entries make way, bounding the memory.
RECENT_PAGES = 64
RECENT_CART_PAGES = 32  # apart, so that many carts seen at once do not push out the catalogue
_recent = OrderedDict()
_recent_carts = OrderedDict()
_recent_lock = threading.Lock()  # gunicorn's threaded workers share it


def _remember(key, html, pages=_recent, size=RECENT_PAGES):
    with _recent_lock:
        pages[key] = html
        pages.move_to_end(key)
        while len(pages) > size:
            pages.popitem(last=False)


def forget_local():
    """Drop the version and pages this process remembers: for tests, whose rolled-back
    transactions take the version back to numbers this process has pages for."""
    _memo["until"] = 0.0
    with _recent_lock:
        _recent.clear()
        _recent_carts.clear()
    _navs.clear()
    _per_version.clear()
    release.cache_clear()


# What the `{% personal %}` tag leaves in a shared page, by name.
PERSONAL_PARTS = ("nav", "messages")
NAV_TEMPLATE = "partials/header_nav.html"  # the cart count, the account links, the log-out form
MESSAGES_TEMPLATE = "partials/messages.html"


def personal_marker(name):
    return f"<!--personal:{name}-->"


def renders_shared_page(request):
    """Whether the page being rendered is the shared one, its personal parts left out."""
    return getattr(request, "renders_shared_page", False)


class _Visitor:
    """All the header's links may know of a visitor: what kind they are, nothing of their own."""

    def __init__(self, is_authenticated, is_staff):
        self.is_authenticated, self.is_staff = is_authenticated, is_staff


_COUNT_SLOT, _TOKEN_SLOT = "\x00cart-count\x00", "\x00csrf-token\x00"
_navs = {}  # by kind of visitor: (signed in, staff)


def header_nav(request, *, cart_count, csrf_token):
    """The header's links for this visitor: rendered once per process for each kind of visitor,
    with their own cart count and CSRF token put in. Rendered with a stand-in for the user that
    has nothing of theirs, so nothing else of one visitor's can reach another's page."""
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    kind = (signed_in, signed_in and user.is_staff)
    html = _navs.get(kind)
    if html is None:
        context = {"user": _Visitor(*kind), "cart_count": _COUNT_SLOT, "csrf_token": _TOKEN_SLOT}
        html = _navs[kind] = get_template(NAV_TEMPLATE).render(context, request)
    return html.replace(_COUNT_SLOT, str(cart_count)).replace(_TOKEN_SLOT, str(csrf_token))


def messages_html(request):
    return get_template(MESSAGES_TEMPLATE).render(None, request)


def _fill(request, html, count=None):
    """The shared page `html` as this visitor sees it: their CSRF token and personal parts.
    `count`: the header's cart count, where the view knows it."""
    token = get_token(request)
    html = html.replace(CSRF_PLACEHOLDER, f'name="csrfmiddlewaretoken" value="{token}"')
    if count is None:
        # Read with the user where the store's backend loaded them (accounts.backends).
        count = getattr(request.user, "header_cart_count", None)
    if count is None:
        count = cart_count(request=request)
    nav = header_nav(request, cart_count=count, csrf_token=token)
    html = html.replace(personal_marker("nav"), nav, 1)
    return html.replace(personal_marker("messages"), messages_html(request), 1)


def _render_shared(view, request, *args, **kwargs):
    request.renders_shared_page = True
    try:
        return view(request, *args, **kwargs)
    finally:
        # An error page rendered from an exception the view raised is an ordinary page.
        request.renders_shared_page = False


def read_params(request, names):
    """The non-empty query parameters among `names`, in that order: what a cached page may
    depend on."""
    values = ((name, request.GET.get(name, "")) for name in names)
    return {name: value for name, value in values if value}


def not_shared(response):
    """Mark a page for shared_page to show but not store: rendered from query values
    that are not in their canonical form, it would only be found again by the same junk URL."""
    response.page_cache_not_shared = True
    return response


def shared_page(*reads, repeatable=()):
    """Render the view's pages once for every shopper and cache them, keyed on their address
    without the query string and the query parameters named in `reads` or `repeatable`, the
    only ones the view may read. A parameter in `repeatable` may be given several times
    (option=a&option=b): the key holds its non-empty values sorted, so the same values in
    another order are the same page, and the view must show them in an order of its own, not
    as given. The view must show nothing of the visitor's own but through `{% personal %}`."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != "GET":
                return view(request, *args, **kwargs)
            key = _page_key(request, reads, repeatable)
            html = None
            if key is not None:
                html = _recent.get(key) or cache.get(key)
            if html is None:
                response = _render_shared(view, request, *args, **kwargs)
                if getattr(response, "streaming", False):
                    return response
                html = CSRF_FIELD.sub(CSRF_PLACEHOLDER, response.content.decode())
                if (
                    key is None
                    or response.status_code != 200
                    or getattr(response, "page_cache_not_shared", False)
                ):
                    response.content = _fill(request, html)
                    return response
                cache.set(key, html, PAGE_TTL)
            _remember(key, html)
            return HttpResponse(_fill(request, html))

        return wrapper

    return decorator


# A page showing one cart is kept a short while: it is found again only while its cart, the
# catalogue and the store's prices stay as they were, so it serves a shopper's own second look
# (back from checkout, a reload), and a busy store's Redis holds few of them at once.
CART_PAGE_TTL = 120


def cart_page(request, state, render, *, count, fresh=()):
    """A page that shows the visitor's cart, kept under `state` and served again while the
    catalogue version stays the same (a change of a price, a shipping method or a tax rate
    moves it on, as catalog_changed says).

    `state` is text holding everything the page shows that the catalogue does not say: the
    cart's rows as Cart.contents_of read them (CartContents.state, item ids and all, so one
    cart's page is never another's), and whatever else of the shopper's the view shows (their
    saved addresses on the checkout page). The view shows nothing of the visitor's but that,
    and through `{% personal %}`. `render()` makes the page when it is not kept. `fresh`:
    (pattern, make) pairs for values each response must have a new one of (the checkout
    form's one-time token): each match in the page is replaced by make(match).
    `count`: the cart's item count, for the header.
    """
    digest = hashlib.sha256(f"{request.path}\n{state}".encode()).hexdigest()
    key = f"cart-page:{release()}:{catalog_version()}:{digest}"
    html = _recent_carts.get(key) or cache.get(key)
    if html is None:
        response = _render_shared(lambda request: render(), request)
        html = CSRF_FIELD.sub(CSRF_PLACEHOLDER, response.content.decode())
        if response.status_code != 200:
            response.content = _fill(request, html, count)
            return response
        cache.set(key, html, CART_PAGE_TTL)
    _remember(key, html, _recent_carts, RECENT_CART_PAGES)
    for pattern, make in fresh:
        html = pattern.sub(make, html)
    return HttpResponse(_fill(request, html, count))


def _page_key(request, reads, repeatable):
    """The cache key of the page asked for, or None where it is not to be stored."""
    if any(len(request.GET.getlist(name)) > 1 for name in reads):
        # Which of the repeated values counts is the view's business: not shared.
        return None
    # The host is part of the page (its canonical link), not a visitor's choice: only the
    # ALLOWED_HOSTS get this far.
    text = f"{request.scheme}://{request.get_host()}{request.path}"
    params = list(read_params(request, reads).items())
    for name in repeatable:
        params += [(name, value) for value in sorted(request.GET.getlist(name)) if value]
    query = urlencode(params)
    if query:
        text = f"{text}?{query}"
    if len(text) > MAX_KEY_TEXT:
        return None
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"page:{release()}:{catalog_version()}:{digest}"


# The settings that pages show or are worked out from: a deploy that changes one renders anew.
PAGE_SETTINGS = (
    "STORE_NAME",
    "STORE_CURRENCY",
    "STORE_COUNTRY",
    "PRICES_INCLUDE_TAX",
    "CART_MAX_LINE_QUANTITY",
)


@functools.cache
def release():
    """What this release renders pages from: its static files (their manifest's hash), its
    templates and the PAGE_SETTINGS. Part of every page's key, so that during and after a
    deploy no worker serves a page another release rendered: one pointing at styles whose
    hashed names this release does not have, at forms it no longer takes, or in the currency
    or with the taxes the store had before."""
    digest = hashlib.sha256(getattr(staticfiles_storage, "manifest_hash", "").encode())
    digest.update(repr([getattr(settings, name) for name in PAGE_SETTINGS]).encode())
    for directory in settings.TEMPLATES[0]["DIRS"]:
        for path in sorted(Path(directory).rglob("*.html")):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
