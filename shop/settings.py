"""Settings of the store, read from the environment (see .env.example for every variable)."""

import os
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file is a development convenience written by `make run`; variables already set in the
# real environment win over it, and production images do not ship one. ENV_FILE="" turns it
# off, as the test suite does, so a developer's .env never changes what the tests see.
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    env.read_env(ENV_FILE, overwrite=False)

# --- Core --------------------------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)

# Production must be told these explicitly; development gets safe local defaults.
REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
)
if not DEBUG:
    missing = [name for name in REQUIRED_IN_PRODUCTION if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured(
            "DEBUG is off and these environment variables are not set: "
            + ", ".join(missing)
            + ". Set them (see .env.example) or set DEBUG=true for local development."
        )

SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-development-only-key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

STORE_NAME = env.str("STORE_NAME", default="Corner Shop")
# The seller on invoices: the business's postal address (lines separated by "|") and its tax
# registration (a VAT number, say). Empty: left off.
STORE_ADDRESS = env.str("STORE_ADDRESS", default="")
STORE_TAX_ID = env.str("STORE_TAX_ID", default="")
# The store's public address (https://shop.example), for links in emails written with no
# request at hand (a webhook, the back office, the worker). Empty: the first
# CSRF_TRUSTED_ORIGINS entry, else the first ALLOWED_HOSTS name over https.
SITE_URL = env.str("SITE_URL", default="")
# One currency for the whole store (ISO 4217); prices are stored in it.
STORE_CURRENCY = env.str("STORE_CURRENCY", default="USD").upper()
if len(STORE_CURRENCY) != 3 or not STORE_CURRENCY.isalpha():
    raise ImproperlyConfigured("STORE_CURRENCY must be an ISO 4217 code such as USD or EUR.")
# Whether prices in the catalogue include tax (EU style: the shelf price is what is paid) or
# exclude it (US style: tax is added at checkout). See README, "Pricing".
PRICES_INCLUDE_TAX = env.bool("PRICES_INCLUDE_TAX", default=False)
# Where the shop is: the cart page estimates shipping and tax for this country until the
# shopper gives an address.
STORE_COUNTRY = env.str("STORE_COUNTRY", default="US").upper()
PRODUCTS_PER_PAGE = 24
# The most of one product a cart line may hold.
CART_MAX_LINE_QUANTITY = env.int("CART_MAX_LINE_QUANTITY", default=99)
# Delivery before shipping zones: a flat rate per order, free from the threshold up (empty:
# never free). Read once, by the migration that made the first ("Worldwide") zone from them.
SHIPPING_FLAT_RATE = Decimal(env.str("SHIPPING_FLAT_RATE", default="5.00")).quantize(
    Decimal("0.01")
)
_threshold = env.str("FREE_SHIPPING_THRESHOLD", default="50.00")
FREE_SHIPPING_THRESHOLD = Decimal(_threshold).quantize(Decimal("0.01")) if _threshold else None
if SHIPPING_FLAT_RATE < 0:
    raise ImproperlyConfigured("SHIPPING_FLAT_RATE cannot be negative.")
# Products at or below this stock are listed on the back-office dashboard.
LOW_STOCK_THRESHOLD = env.int("LOW_STOCK_THRESHOLD", default=5)
# How long after delivery a shopper may ask to return items.
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=30)

# --- Applications ------------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "csp",
    "django_ratelimit",
    "django_countries",
    "django_tasks",
    "django_tasks_db",
    "shop",
    "accounts",
    "catalog",
    "cart",
    "orders",
    "payments",
    "pricing",
    "shop.pages",
]

MIDDLEWARE = [
    "shop.middleware.RequestIdMiddleware",
    "shop.middleware.HealthCheckMiddleware",
    # Times every request but the probes, and answers /metrics before host validation.
    "shop.metrics.MetricsMiddleware",
    # 413 before anything reads an oversized body (see shop.uploads).
    "shop.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "shop.urls"
# Only for `make bench`: serves /bench/bare/, the bare-Django ceiling pages are measured against.
BENCHMARK_ENDPOINTS = env.bool("BENCHMARK_ENDPOINTS", default=False)
WSGI_APPLICATION = "shop.wsgi.application"
ADMIN_URL = env.str("ADMIN_URL", default="admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/"):
    raise ImproperlyConfigured(
        "ADMIN_URL must be a relative path ending in '/', e.g. 'backoffice/'."
    )

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop.context_processors.store",
                "cart.context_processors.cart",
            ],
        },
    },
]
FORM_RENDERER = "shop.renderers.FormRenderer"

# --- Database ----------------------------------------------------------------------------------

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# DATABASE_URL points at PgBouncer in transaction pooling: each transaction may run on another
# server connection, so nothing may outlive a transaction, not a named cursor, not a prepared
# statement (Debian's PgBouncer, 1.18, does not carry them over). Migrations go to PostgreSQL
# itself (their lock is a session's).
PGBOUNCER = env.bool("PGBOUNCER", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite has no row locks: IMMEDIATE transactions take the write lock up front, so two
    # checkouts serialise instead of failing with "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Persistent connections, checked before reuse, so a restarted database is picked up again
    # without restarting the store.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    if PGBOUNCER:
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    # Values are sent apart from the statement (server-side binding), so that a statement sent
    # again and again can be prepared once per connection: planning was about two thirds of
    # PostgreSQL's time on a signed-in page.
    prepared = env.bool("DB_PREPARED_STATEMENTS", default=True) and not PGBOUNCER
    DATABASES["default"]["OPTIONS"].update(
        server_side_binding=True, prepare_threshold=5 if prepared else None
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and sessions ------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
# Redis only makes the store faster (shop.cache): every call to it gives up after REDIS_TIMEOUT
# seconds, and after a failure each process leaves it alone for REDIS_RETRY_AFTER seconds, so a
# frozen Redis costs a worker one timeout every few seconds rather than one per call.
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.25)
REDIS_RETRY_AFTER = env.float("REDIS_RETRY_AFTER", default=5.0)
if REDIS_TIMEOUT <= 0 or REDIS_RETRY_AFTER < 0:
    raise ImproperlyConfigured(
        "REDIS_TIMEOUT must be more than 0 seconds and REDIS_RETRY_AFTER at least 0."
    )
if REDIS_URL:
    _redis = {
        "BACKEND": "shop.cache.ResilientRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "shop",
        "RETRY_AFTER": REDIS_RETRY_AFTER,
        "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT, "socket_timeout": REDIS_TIMEOUT},
    }
    CACHES = {
        # Pages and the rest: without Redis, a miss.
        "default": _redis,
        # A session changed or deleted while Redis was away must not come back from it later.
        "sessions": {**_redis, "DELETE_UNWRITTEN": True},
        # Without Redis, each worker counts for itself rather than letting everything through.
        "ratelimit": {**_redis, "LOCAL_FALLBACK": True},
    }
else:
    # Development only (production requires REDIS_URL above): one process, nothing shared.
    _local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    CACHES = {"default": _local, "sessions": _local, "ratelimit": _local}

# Sessions are read from the cache and written through to the database, so a cache flush or
# outage logs nobody out and loses no guest cart.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_CACHE_ALIAS = "sessions"

# --- Authentication ----------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:account"
LOGOUT_REDIRECT_URL = "home"

# The store's backend first; Django's own after it only for sessions signed in before the store
# had one (a session names the backend that signed it in).
AUTHENTICATION_BACKENDS = [
    "accounts.backends.ShopperBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Argon2id for new hashes; PBKDF2 and bcrypt-SHA256 still verify imported or older hashes,
# which Django then upgrades to Argon2id at the next successful login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a reset link is good for one day

# --- Security ----------------------------------------------------------------------------------

CSRF_FAILURE_VIEW = "shop.views.csrf_failure"
# HTTPS everywhere outside development. Behind a TLS-terminating proxy, set
# TRUST_X_FORWARDED_PROTO so Django knows which requests arrived over HTTPS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# No inline script or style anywhere; forms may post only here, and to Stripe Checkout, where
# the pay redirect sends a form's response.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF, "https://checkout.stripe.com"],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# Rate limits (django-ratelimit), counted in the shared cache so every worker and host agrees;
# while Redis is away, each worker counts for itself (the "ratelimit" cache above).
# Each is "<count>/<period>", period s, m, h or d.
RATE_LIMITS = {
    "login_ip": env.str("RATELIMIT_LOGIN_IP", default="20/m"),
    "login_account": env.str("RATELIMIT_LOGIN_ACCOUNT", default="5/m"),
    "register": env.str("RATELIMIT_REGISTER", default="10/h"),
    "password_reset": env.str("RATELIMIT_PASSWORD_RESET", default="5/h"),
    "cart": env.str("RATELIMIT_CART", default="60/m"),
    "checkout": env.str("RATELIMIT_CHECKOUT", default="10/m"),
    # Each may send an email: per IP and per email (lookup), per account (claim).
    "order_lookup": env.str("RATELIMIT_ORDER_LOOKUP", default="10/h"),
    "order_claim": env.str("RATELIMIT_ORDER_CLAIM", default="5/h"),
}
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_VIEW = "shop.views.ratelimited"
# The client's address for the per-IP limits: empty means the connecting address (REMOTE_ADDR);
# behind a proxy, every shopper would otherwise share the proxy's one bucket, so name the header
# it sets (X-Real-IP, or X-Forwarded-For, of which the right-most entry is read).
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="").strip()
if CLIENT_IP_HEADER and not re.fullmatch(r"[A-Za-z0-9-]+", CLIENT_IP_HEADER):
    raise ImproperlyConfigured(
        "CLIENT_IP_HEADER must be an HTTP header name such as X-Real-IP or X-Forwarded-For "
        "(empty: the connecting address)."
    )
if env.str("RATELIMIT_IP_META_KEY", default=None) is not None:
    # Refused rather than ignored: a deployment still setting it believes its proxy is handled.
    raise ImproperlyConfigured(
        "RATELIMIT_IP_META_KEY is no longer read: set CLIENT_IP_HEADER to the header your proxy "
        "puts the client's address in (e.g. CLIENT_IP_HEADER=X-Real-IP) and remove it."
    )
RATELIMIT_IP_META_KEY = "shop.clientip.client_ip"
# django-ratelimit knows only third-party Redis backends (W001) and refuses the development
# memory cache (E003); shop.checks applies the rule that matters: shared cache when DEBUG is off.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001", "django_ratelimit.E003"]
if not SECURE_HSTS_PRELOAD:
    # Joining the browsers' HSTS preload list is hard to undo, so it is a deliberate opt-in
    # (SECURE_HSTS_PRELOAD=true), not something the deploy check should push on every install.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# --- Internationalisation ----------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files and media --------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
# Product images. In production this is a volume shared by every app host, served by the
# reverse proxy (see README, "Deploying").
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MAX_IMAGE_UPLOAD_BYTES = 5 * 1024 * 1024
# The most a request body may be: larger ones get 413 before a byte of them is read (views in
# UPLOAD_VIEWS may be sent a picture on top). Form fields over it would get Django's 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The only views (URL names) that take files; a file part sent anywhere else is refused with 400
# before it is stored.
UPLOAD_VIEWS = (
    "admin:catalog_product_add",
    "admin:catalog_product_change",
    # The product CSV import: at most 5 MB (catalog.csv_io.MAX_UPLOAD_BYTES), said by its form.
    "admin:catalog_product_import",
)
FILE_UPLOAD_HANDLERS = [
    "shop.uploads.FilesOnlyWhereExpectedHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Media on S3-compatible object storage (shop.storage) when MEDIA_S3_BUCKET is set, so that app
# hosts share no volume; browsers then fetch pictures from MEDIA_PUBLIC_URL (the bucket's public
# address, or a CDN or custom domain in front of it), never through the store.
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
MEDIA_PUBLIC_URL = env.str("MEDIA_PUBLIC_URL", default="").rstrip("/")
_media_s3_names = (
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
if MEDIA_S3_BUCKET:
    _public = urlsplit(MEDIA_PUBLIC_URL)
    if _public.scheme not in ("http", "https") or not _public.netloc or _public.query:
        raise ImproperlyConfigured(
            "MEDIA_PUBLIC_URL must be the http(s) address pictures are served from, such as "
            "https://media.shop.example or https://BUCKET.s3.REGION.amazonaws.com, when "
            "MEDIA_S3_BUCKET is set."
        )
    _media_s3 = {
        "bucket_name": MEDIA_S3_BUCKET,
        "public_url": MEDIA_PUBLIC_URL,
        # Empty: boto3's own defaults (AWS's endpoint for the region; the region and keys from
        # AWS_* variables, its config files or the instance's role).
        "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("MEDIA_S3_REGION", default="") or None,
        "access_key": env.str("MEDIA_S3_ACCESS_KEY_ID", default=""),
        "secret_key": env.str("MEDIA_S3_SECRET_ACCESS_KEY", default=""),
        "addressing_style": env.str("MEDIA_S3_ADDRESSING_STYLE", default="auto"),
        # Uploads call the storage while a member of staff waits, in a worker gunicorn kills
        # after GUNICORN_TIMEOUT: one call takes at most about max_attempts x (connect_timeout
        # + read_timeout + 1 s, an upload's wait for "100 Continue") + 1 s between tries.
        "connect_timeout": env.float("MEDIA_S3_CONNECT_TIMEOUT", default=3.0),
        "read_timeout": env.float("MEDIA_S3_READ_TIMEOUT", default=5.0),
        "max_attempts": env.int("MEDIA_S3_MAX_ATTEMPTS", default=2),
    }
    if _media_s3["addressing_style"] not in ("auto", "path", "virtual"):
        raise ImproperlyConfigured("MEDIA_S3_ADDRESSING_STYLE must be auto, path or virtual.")
    if not (
        _media_s3["connect_timeout"] > 0
        and _media_s3["read_timeout"] > 0
        and _media_s3["max_attempts"] >= 1
    ):
        raise ImproperlyConfigured(
            "MEDIA_S3_CONNECT_TIMEOUT and MEDIA_S3_READ_TIMEOUT must be seconds above zero, "
            "MEDIA_S3_MAX_ATTEMPTS 1 or more (1: no retry)."
        )
    STORAGES["default"] = {"BACKEND": "shop.storage.MediaStorage", "OPTIONS": _media_s3}
    MEDIA_URL = f"{MEDIA_PUBLIC_URL}/"
    # The pages' pictures come from there: the CSP must let them in.
    _media_origin = f"{_public.scheme}://{_public.netloc}"
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"].append(_media_origin)
elif _media_s3_set := [name for name in _media_s3_names if env.str(name, default="")]:
    # Refused rather than ignored: pictures would go to the local disk of one host.
    raise ImproperlyConfigured(
        f"{', '.join(_media_s3_set)} set but MEDIA_S3_BUCKET is not: set MEDIA_S3_BUCKET to "
        "keep media on object storage, or remove them to keep it in MEDIA_ROOT."
    )

# --- Email -------------------------------------------------------------------------------------

# EMAIL_URL sets EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, ... in one go. Its query
# options (`?timeout=5`) land in an OPTIONS entry that Django's mail backends never read, so a
# timeout there becomes EMAIL_TIMEOUT and any other option is refused rather than ignored.
_email = env.email_url("EMAIL_URL", default="consolemail://")
_email_options = {key.lower(): value for key, value in _email.pop("OPTIONS", {}).items()}
_email_url_timeout = _email_options.pop("timeout", None)
if _email_options:
    raise ImproperlyConfigured(
        f"EMAIL_URL has options the mail backend does not read: {', '.join(_email_options)}. "
        "Only timeout is understood (or set EMAIL_TIMEOUT)."
    )
globals().update(_email)
# Seconds the SMTP backend waits on the mail server at each step (connecting, every reply). Only
# the email worker talks to the mail server, so a slow or hung one delays emails, never a page.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=float(_email_url_timeout or 10))
if not EMAIL_TIMEOUT > 0:
    raise ImproperlyConfigured("EMAIL_TIMEOUT must be a number of seconds above zero.")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{STORE_NAME} <shop@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The email outbox (shop.emails): seconds before each new try of a send that failed; after the
# last one the email is marked failed, for staff to resend from the back office.
EMAIL_RETRY_DELAYS = env.list("EMAIL_RETRY_DELAYS", cast=int, default=[60, 300, 1800, 7200])
if any(delay < 0 for delay in EMAIL_RETRY_DELAYS):
    raise ImproperlyConfigured("EMAIL_RETRY_DELAYS must be seconds, zero or more, e.g. 60,300.")

# Background tasks (django-tasks), stored in the database and run by `manage.py db_worker`: a
# task is enqueued in the transaction of the change that causes it, and one worker runs it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Payments ----------------------------------------------------------------------------------

STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# "stripe", or "local": the stand-in checkout for development without Stripe keys.
PAYMENT_BACKEND = env.str("PAYMENT_BACKEND", default="stripe" if STRIPE_SECRET_KEY else "local")
if PAYMENT_BACKEND not in ("stripe", "local"):
    raise ImproperlyConfigured("PAYMENT_BACKEND must be 'stripe' or 'local'.")
# The provider class (a payments.providers.PaymentProvider) as a dotted path. Empty: the one
# PAYMENT_BACKEND names (payments.providers.BUILT_IN), looked up when used, so that switching
# PAYMENT_BACKEND alone keeps switching the provider.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="")
_STAND_IN = "payments.providers.local.LocalProvider"
if not DEBUG and PAYMENT_BACKEND == "local":
    raise ImproperlyConfigured(
        "PAYMENT_BACKEND=local is the development stand-in and cannot take real payments: "
        "set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or DEBUG=true for development."
    )
if not DEBUG and PAYMENT_PROVIDER == _STAND_IN:
    raise ImproperlyConfigured(
        f"PAYMENT_PROVIDER={_STAND_IN} is the development stand-in and cannot take real "
        "payments: leave PAYMENT_PROVIDER empty and set STRIPE_SECRET_KEY and "
        "STRIPE_WEBHOOK_SECRET, or DEBUG=true for development."
    )
_uses_stand_in = PAYMENT_PROVIDER == _STAND_IN or (
    not PAYMENT_PROVIDER and PAYMENT_BACKEND == "local"
)
if _uses_stand_in and not STRIPE_WEBHOOK_SECRET:
    # The stand-in signs its events like Stripe does; in development any secret will do.
    STRIPE_WEBHOOK_SECRET = "whsec_local_stand_in"  # noqa: S105 -- not a secret: dev only
# Where the Stripe SDK sends its requests (the test suite points it at a local double).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
# Stripe is called while a shopper waits, in a gunicorn worker that is killed after
# GUNICORN_TIMEOUT seconds (the shopper then gets gunicorn's bare error). One call takes at most
# stripe_call_budget(): every try (the first and each retry) timing out, plus the SDK's pauses
# between tries, 0.5 s doubling up to 5 s (stripe.HTTPClient.INITIAL_DELAY and MAX_DELAY). With
# 3 s, 8 s and one retry: 2 × (3 + 8) + 0.5 = 22.5 s. Start-up refuses settings that leave the
# rest of the request (the database, the page) less than STRIPE_HEADROOM before the kill.
STRIPE_CONNECT_TIMEOUT = env.float("STRIPE_CONNECT_TIMEOUT", default=3.0)
STRIPE_READ_TIMEOUT = env.float("STRIPE_READ_TIMEOUT", default=8.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=1)
if not (STRIPE_CONNECT_TIMEOUT > 0 and STRIPE_READ_TIMEOUT > 0 and STRIPE_MAX_NETWORK_RETRIES >= 0):
    raise ImproperlyConfigured(
        "STRIPE_CONNECT_TIMEOUT and STRIPE_READ_TIMEOUT must be seconds above zero, "
        "STRIPE_MAX_NETWORK_RETRIES zero or more."
    )


def stripe_call_budget(connect, read, retries):
    """The longest one Stripe call can take, in seconds: every try times out."""
    pauses = sum(min(0.5 * 2**retry, 5.0) for retry in range(retries))
    return (retries + 1) * (connect + read) + pauses


STRIPE_CALL_BUDGET = stripe_call_budget(
    STRIPE_CONNECT_TIMEOUT, STRIPE_READ_TIMEOUT, STRIPE_MAX_NETWORK_RETRIES
)
STRIPE_HEADROOM = 5.0
# gunicorn's worker timeout, read as gunicorn.conf.py reads it (0: gunicorn never kills workers).
WORKER_TIMEOUT = env.int("GUNICORN_TIMEOUT", default=30)
if WORKER_TIMEOUT and STRIPE_CALL_BUDGET + STRIPE_HEADROOM > WORKER_TIMEOUT:
    raise ImproperlyConfigured(
        f"A Stripe call can take up to {STRIPE_CALL_BUDGET:g} s "
        f"((STRIPE_MAX_NETWORK_RETRIES + 1) × (STRIPE_CONNECT_TIMEOUT + STRIPE_READ_TIMEOUT) "
        f"plus the SDK's pauses between retries), which leaves less than {STRIPE_HEADROOM:g} s "
        f"of GUNICORN_TIMEOUT ({WORKER_TIMEOUT} s) for the rest of the request: lower them, "
        "or raise GUNICORN_TIMEOUT."
    )
# How long a shopper has to pay in one Checkout Session (Stripe allows 30 minutes to 24 hours).
CHECKOUT_SESSION_MINUTES = env.int("CHECKOUT_SESSION_MINUTES", default=60)
if not 30 <= CHECKOUT_SESSION_MINUTES <= 24 * 60:
    raise ImproperlyConfigured("CHECKOUT_SESSION_MINUTES must be between 30 and 1440.")

# --- Metrics -----------------------------------------------------------------------------------

# The bearer token Prometheus sends to /metrics (shop.metrics). Empty: /metrics is a 404.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured(
        "METRICS_TOKEN must be at least 32 characters (e.g. the output of `openssl rand -hex "
        "32`), or empty to turn /metrics off."
    )

# --- Logging -----------------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
# JSON lines for log collectors in production; readable text in development.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "shop.logging.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "shop.logging.JsonFormatter"},
        "text": {
            "()": "shop.logging.TextFormatter",
            "format": "{asctime} {levelname} [{request_id}] {name} {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
            "filters": ["request"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # The request line is ours (shop.request); Django's duplicates it for 4xx/5xx.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Errors to Sentry, when a DSN is given. No personal data is sent.
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk

    from shop.logging import sentry_before_send

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        send_default_pii=False,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        # URLs are sent even without personal data: a password-reset link must not be.
        before_send=sentry_before_send,
    )
