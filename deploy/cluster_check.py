"""`make cluster-check`: the store on two app hosts behind nginx, proved over HTTP.

Starts, all on this machine and each from its own working directory with no disk shared
between the hosts: a fresh PostgreSQL database, a local S3-compatible server (moto) for the
pictures, a stand-in for the Stripe API, two gunicorn hosts, the outbox worker and nginx
(Debian's) balancing between the hosts. Redis and PostgreSQL are the machine's own. Then:

1. a shopper's journey alternating between the hosts: logs in on one, fills the cart on the
   other, checks out, pays (the webhook arrives at the first), sees the order paid on the second;
2. a picture uploaded through one host is served, with its renditions, through the other;
3. a price changed through one host shows on the other within the documented second;
4. login attempts for one account, alternating hosts, are refused at the same count;
5. one host killed during a checkout load through nginx: every shopper ends with exactly one
   order (a shopper whose answer was lost sends the same form again), and the stock and money
   invariants hold in SQL.

Everything it started is stopped, and its database dropped, whatever happens. Exits non-zero
with the first failure. About two minutes on 2 cores.
"""

import concurrent.futures
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = sys.executable
DB = "shop_cluster_check"
HOSTS = {"A": 18811, "B": 18812}
BALANCER = 18810
BUYERS = 160
CONCURRENCY = 16
STOCK = 1000


def say(message):
    print(f"ok   {message}", flush=True)


def fail(message):
    raise SystemExit(f"FAIL: {message}")


def check(condition, message):
    if not condition:
        fail(message)
    say(message)


# --- A browser: cookies by hand (the store's are Secure; this loopback cluster speaks HTTP, as
# behind a TLS-terminating balancer), forms read from the pages ------------------------------


class Form(HTMLParser):
    """The fields of the first form that posts to `action` (its own page, or an address ending
    with `action`), as a browser would send them: checked boxes only, each select's choice."""

    def __init__(self, html, action=None):
        super().__init__()
        self.action, self.fields, self.files, self._in, self._select = action, [], [], False, None
        self._found = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self._found:
            # A form without an action posts to its own page.
            action = attrs.get("action") or ""
            if not action or self.action is None or action.endswith(self.action):
                self._in = self._found = True
        if not self._in or ("name" not in attrs and tag != "option"):
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind == "file":
                self.files.append(attrs["name"])
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((attrs["name"], attrs.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset"):
                self.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select":
            self._select = [attrs["name"], None, None]
        elif tag == "option" and self._select is not None:
            if self._select[2] is None:
                self._select[2] = attrs.get("value", "")
            if "selected" in attrs:
                self._select[1] = attrs.get("value", "")
        elif tag == "textarea":
            self.fields.append((attrs["name"], ""))

    def handle_endtag(self, tag):
        if tag == "form" and self._in:
            self._in = False
        elif tag == "select" and self._select is not None:
            name, chosen, first = self._select
            # A browser sends the chosen option, else the first.
            if chosen is not None or first is not None:
                self.fields.append((name, chosen if chosen is not None else first))
            self._select = None

    def handle_data(self, data):
        if self._in and self.fields and self.lasttag == "textarea":
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def set(self, name, value):
        self.fields = [(n, v) for n, v in self.fields if n != name] + [(name, value)]

    def value(self, name):
        return next((v for n, v in self.fields if n == name), None)


class Browser:
    def __init__(self, ip):
        self.cookies, self.ip = {}, ip

    def request(self, port, method, path, fields=None, files=None):
        headers = {"X-Real-IP": self.ip, "Host": f"127.0.0.1:{port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if files:
            boundary = uuid.uuid4().hex
            parts = []
            for name, value in fields or []:
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode()
                )
            for name, (filename, content, kind) in files.items():
                parts.append(
                    f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                    f'filename="{filename}"\r\nContent-Type: {kind}\r\n\r\n'.encode()
                    + content
                    + b"\r\n"
                )
            body = b"".join(parts) + f"--{boundary}--\r\n".encode()
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif fields is not None:
            body = urlencode(fields).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower() or value in ("", '""'):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, response.headers, text

    def get(self, port, path):
        return self.request(port, "GET", path)

    def post_form(self, port, path, page_path=None, action=None, changes=(), files=None):
        """GET the page, fill its form (changes), POST it: (status, headers, body)."""
        status, _, html = self.get(port, page_path or path)
        if status != 200:
            fail(f"GET {page_path or path} on port {port} answered {status}")
        form = Form(html, action or path)
        for name, value in changes:
            form.set(name, value)
        return self.request(port, "POST", path, form.fields, files)


# --- The cluster ---------------------------------------------------------------------------


class Cluster:
    def __init__(self):
        self.work = Path(tempfile.mkdtemp(prefix="cluster-check-"))
        self.processes = {}
        self.s3 = self.stripe = None

    def env(self, **extra):
        return {**os.environ, **self.shared, **extra}

    def start(self, name, args, cwd, env, group=False):
        log = (self.work / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=group,
        )  # fmt: skip

    def stop(self, name, sig=signal.SIGTERM):
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)  # the master and its workers
        except (ProcessLookupError, PermissionError):
            process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop_all(self):
        for name in list(self.processes):
            self.stop(name)
        if self.s3 is not None:
            self.s3.stop()
        if self.stripe is not None:
            self.stripe.close()


def wait_for(port, path="/healthz", seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    fail(f"nothing answered on port {port} within {seconds} s")


def nginx_config(cluster):
    return f"""
worker_processes 1;
pid {cluster.work}/nginx.pid;
error_log {cluster.work}/nginx-error.log;
daemon off;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {cluster.work}/nginx-body;
    proxy_temp_path {cluster.work}/nginx-proxy;
    fastcgi_temp_path {cluster.work}/nginx-fastcgi;
    uwsgi_temp_path {cluster.work}/nginx-uwsgi;
    scgi_temp_path {cluster.work}/nginx-scgi;
    client_max_body_size 10m;
    upstream shop {{
        server 127.0.0.1:{HOSTS["A"]} max_fails=1 fail_timeout=10s;
        server 127.0.0.1:{HOSTS["B"]} max_fails=1 fail_timeout=10s;
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{BALANCER};
        location / {{
            proxy_pass http://shop;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            # A host that is down is skipped; a POST it may have half-done is not sent again
            # (nginx's default): the shopper's browser sends the same form, and its one-time
            # token makes that safe.
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


def setup(cluster):
    from payments.tests.stripe_double import StripeDouble
    from shop.tests.s3 import S3Server

    cluster.s3 = S3Server()
    bucket = cluster.s3.create_bucket("cluster-media")
    cluster.stripe = StripeDouble()
    admin_password = secrets.token_urlsafe(16)
    cluster.shared = {
        "ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "REDIS_URL": "redis://127.0.0.1:6379/12",
        "EMAIL_URL": f"filemail:///{cluster.work}/mail",
        "STRIPE_SECRET_KEY": "sk_test_cluster",
        "STRIPE_WEBHOOK_SECRET": "whsec_cluster",
        "STRIPE_API_BASE": cluster.stripe.url,
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        # TLS ends at the balancer in front of nginx; here everything is loopback HTTP.
        "SECURE_SSL_REDIRECT": "false",
        "CLIENT_IP_HEADER": "X-Real-IP",
        "GUNICORN_WORKERS": "2",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "MEDIA_S3_BUCKET": bucket,
        "MEDIA_PUBLIC_URL": f"{cluster.s3.endpoint_url}/{bucket}",
        "MEDIA_S3_ENDPOINT_URL": cluster.s3.endpoint_url,
        "MEDIA_S3_REGION": "us-east-1",
        "MEDIA_S3_ACCESS_KEY_ID": "test-access-key",
        "MEDIA_S3_SECRET_ACCESS_KEY": "test-secret-key",
        "MEDIA_S3_ADDRESSING_STYLE": "path",
        "DJANGO_SUPERUSER_EMAIL": "owner@cluster.example.com",
        "DJANGO_SUPERUSER_PASSWORD": admin_password,
        "DJANGO_SETTINGS_MODULE": "shop.settings",
    }
    os.environ.update(cluster.shared)
    import psycopg
    import redis

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        db.execute(f"CREATE DATABASE {DB}")
    redis.Redis.from_url(cluster.shared["REDIS_URL"]).flushdb()
    for command in (["migrate", "--noinput"], ["seed_admin"], ["seed_demo", "--products", "40"]):
        subprocess.run([PY, "manage.py", *command, "--verbosity", "0"], cwd=ROOT,
                       env=cluster.env(), check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                   cwd=ROOT, env=cluster.env(), check=True)  # fmt: skip

    # Each host in a folder of its own: its own media folder (unused: pictures are in the
    # bucket) and its own working directory; the code is the release's.
    for name, port in HOSTS.items():
        folder = cluster.work / f"host-{name}"
        (folder / "media").mkdir(parents=True)
        env = cluster.env(MEDIA_ROOT=str(folder / "media"), PYTHONPATH=str(ROOT))
        cluster.start(
            f"host-{name}",
            [PY, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--chdir", str(ROOT),
             "--bind", f"127.0.0.1:{port}", "shop.wsgi:application"],
            cwd=folder, env=env, group=True,
        )  # fmt: skip
    cluster.start("worker", [PY, "manage.py", "db_worker"], cwd=ROOT, env=cluster.env(),
                  group=True)  # fmt: skip
    (cluster.work / "nginx.conf").write_text(nginx_config(cluster))
    cluster.start("nginx", ["nginx", "-c", str(cluster.work / "nginx.conf"), "-p",
                            str(cluster.work)], cwd=cluster.work, env=cluster.env(),
                  group=True)  # fmt: skip
    for port in (*HOSTS.values(), BALANCER):
        wait_for(port)
    import django

    django.setup()
    return admin_password


# --- The checks ----------------------------------------------------------------------------


def journey(cluster):
    from django.urls import reverse

    from accounts.models import User
    from catalog.models import Product
    from orders.models import Order
    from pricing.models import ShippingZone

    a, b = HOSTS["A"], HOSTS["B"]
    password = secrets.token_urlsafe(12)
    User.objects.create_user("journey@cluster.example.com", password)
    product = Product.objects.available().in_stock().first()
    country = ShippingZone.objects.filter(countries__isnull=False).exclude(countries="").first()
    country = str(country.countries[0]) if country else "GB"
    shopper = Browser("10.0.0.2")

    status, headers, _ = shopper.post_form(
        a, reverse("accounts:login"),
        changes=[("username", "journey@cluster.example.com"), ("password", password)],
    )  # fmt: skip
    check(status == 302, f"logged in on host A ({status} {headers.get('Location')})")
    status, _, _ = shopper.post_form(
        b, reverse("cart:add"), page_path=product.get_absolute_url(), action=reverse("cart:add"),
        changes=[("quantity", "2")],
    )  # fmt: skip
    check(status == 302, "added to the cart on host B, signed in from host A")
    _, _, html = shopper.get(a, reverse("cart:detail"))
    check(product.name in html, "the cart shows on host A")

    address = [("full_name", "Cluster Shopper"), ("address_line1", "1 Load Road"),
               ("city", "Town"), ("postal_code", "12345"), ("country", country)]  # fmt: skip
    status, _, html = shopper.post_form(
        b, reverse("orders:checkout"), action=reverse("orders:checkout"),
        changes=[*address, ("action", "update")],
    )  # fmt: skip
    form = Form(html, reverse("orders:checkout"))
    for name, value in [*address, ("action", "place")]:
        form.set(name, value)
    status, headers, _ = shopper.request(b, "POST", reverse("orders:checkout"), form.fields)
    check(status == 307, "the order placed on host B")
    order = Order.objects.get(user__email="journey@cluster.example.com")
    status, headers, _ = shopper.request(a, "POST", headers["Location"], form.fields)
    check(status in (302, 303) and "stripe.test" in headers.get("Location", ""),
          "payment started on host A, off to the payment page")  # fmt: skip
    session_id = headers["Location"].rsplit("/", 1)[1]
    session = cluster.stripe.complete(session_id)
    import stripe

    body = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "object": "event",
                       "type": "checkout.session.completed", "created": int(time.time()),
                       "data": {"object": session}})  # fmt: skip
    signature = stripe.WebhookSignature.generate_signature_header(
        body, cluster.shared["STRIPE_WEBHOOK_SECRET"], timestamp=int(time.time())
    )
    connection = http.client.HTTPConnection("127.0.0.1", a, timeout=30)
    connection.request("POST", reverse("payments:webhook"), body=body.encode(),
                       headers={"Stripe-Signature": signature, "Host": f"127.0.0.1:{a}",
                                "Content-Type": "application/json"})  # fmt: skip
    check(connection.getresponse().status == 200, "the payment's webhook taken by host A")
    connection.close()
    status, _, html = shopper.get(b, order.get_absolute_url())
    check(status == 200 and "Paid" in html, f"order {order.number} shows paid on host B")


def picture_and_price(cluster, admin_password):
    from catalog.models import Product, ProductImage
    from catalog.templatetags.money import money

    a, b = HOSTS["A"], HOSTS["B"]
    staff = Browser("10.0.0.3")
    status, _, _ = staff.post_form(
        a, "/admin/login/?next=/admin/",
        changes=[("username", cluster.shared["DJANGO_SUPERUSER_EMAIL"]),
                 ("password", admin_password)],
    )  # fmt: skip
    check(status == 302, "staff logged in to the back office on host A")
    product = Product.objects.available().in_stock().order_by("pk").first()
    had = set(product.pictures.values_list("pk", flat=True))
    change = f"/admin/catalog/product/{product.pk}/change/"
    _, _, html = staff.get(a, change)
    form = Form(html, change)
    prefix = next(
        name.rsplit("-", 2)[0] for name in form.files
        if name.endswith("-image") and "__prefix__" not in name
    )  # fmt: skip
    index = int(form.value(f"{prefix}-INITIAL_FORMS"))  # the empty form after the saved ones
    from PIL import Image

    # A real picture: 1,200 px wide, so that 400 and 800 px renditions are made.
    path = cluster.work / "lamp.png"
    Image.new("RGB", (1200, 900), (200, 120, 40)).save(path)
    form.set(f"{prefix}-{index}-alt", "The lamp, lit")
    form.set("_save", "Save")
    status, _, _ = staff.request(
        a, "POST", change, form.fields,
        files={f"{prefix}-{index}-image": ("lamp.png", path.read_bytes(), "image/png")},
    )  # fmt: skip
    check(status == 302, "a picture uploaded through host A")
    picture = ProductImage.objects.exclude(pk__in=had).get(product=product)
    check(cluster.s3.client().head_object(Bucket=cluster.shared["MEDIA_S3_BUCKET"],
                                          Key=picture.image.name)["ContentLength"] > 0,
          "the picture is in the bucket, not on a host's disk")  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        picture.refresh_from_db()
        if picture.renditions:
            break
        time.sleep(0.5)
    check(bool(picture.renditions), "the worker made its renditions")
    _, _, html = Browser("10.0.0.4").get(b, product.get_absolute_url())
    urls = re.findall(rf'{re.escape(cluster.shared["MEDIA_PUBLIC_URL"])}/[^" ,]+', html)
    check(urls, "host B's product page draws the picture from the bucket's address")
    target = urlsplit(urls[0])
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
    connection.request("GET", target.path)
    response = connection.getresponse()
    content = response.read()
    connection.close()
    check(response.status == 200 and content[:4] in (b"RIFF", b"\x89PNG"),
          "and the picture's file is served from there")  # fmt: skip

    # A price change through A, on B's page within the second the README promises.
    variant = product.variants.first()
    new_price = (variant.price + Decimal("1.11")).quantize(Decimal("0.01"))
    _, _, html = staff.get(a, change)
    form = Form(html, change)
    field = next(n for n, v in form.fields if n.endswith("-price") and v == str(variant.price))
    form.set(field, str(new_price))
    form.set("_save", "Save")
    status, _, _ = staff.request(a, "POST", change, form.fields)
    check(status == 302, f"the price changed to {new_price} through host A")
    changed_at, seen = time.monotonic(), None
    visitor = Browser("10.0.0.5")
    while time.monotonic() - changed_at < 5:
        _, _, html = visitor.get(b, product.get_absolute_url())
        if money(new_price) in html:
            seen = time.monotonic() - changed_at
            break
        time.sleep(0.05)
    check(
        seen is not None and seen <= 1.2,
        f"host B shows the new price after {seen if seen is None else round(seen, 2)} s",
    )


def rate_limits(cluster):
    from django.conf import settings
    from django.urls import reverse

    limit = int(settings.RATE_LIMITS["login_account"].split("/")[0])
    login = reverse("accounts:login")
    answers = []
    for attempt in range(limit + 1):
        port = list(HOSTS.values())[attempt % 2]
        status, _, _ = Browser(f"10.0.1.{attempt}").post_form(
            port, login, changes=[("username", "guessed@cluster.example.com"),
                                  ("password", "not-the-password")],
        )  # fmt: skip
        answers.append(status)
    check(answers[:limit] == [200] * limit and answers[limit] == 429,
          f"login attempts alternating hosts refused at the {limit + 1}th: {answers}")  # fmt: skip


def buyers(count):
    """Signed-in shoppers with one line each, and the checkout form each would send."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.utils.crypto import get_random_string

    from accounts.models import User
    from cart.models import Cart, CartItem
    from catalog.models import ProductVariant
    from orders.services import checkout_signature
    from pricing.services import price, shipping_methods_for

    variants = list(ProductVariant.objects.filter(is_active=True, product__is_active=True))
    ProductVariant.objects.filter(pk__in=[v.pk for v in variants]).update(stock=STOCK)
    country = "GB"
    method = shipping_methods_for(country)[0]
    made = []
    for n in range(count):
        user = User.objects.create_user(f"buyer-{n}@cluster.example.com", None)
        cart = Cart.objects.create(user=user)
        CartItem.objects.create(cart=cart, variant=variants[n % len(variants)], quantity=1)
        items = list(cart.items.select_related("variant__product"))
        priced = price(items, country=country, method=method, email=user.email, strict=True)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        csrf = get_random_string(32)  # a CSRF secret: 32 letters and digits
        made.append({
            "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}; csrftoken={csrf}",
            "form": {"full_name": "Buyer", "address_line1": "1 Road", "city": "Town",
                     "postal_code": "12345", "country": country, "shipping_method": method.pk,
                     "voucher_code": "", "note": "", "action": "place",
                     "token": str(uuid.uuid4()), "csrfmiddlewaretoken": csrf,
                     "signature": checkout_signature(items, priced.breakdown)},
        })  # fmt: skip
    return made


def checkout(buyer):
    """One shopper's checkout through the balancer; the same form again when the answer is
    lost (a host gone), as a browser's retry would. Returns the answers' statuses."""
    answers = []
    for _ in range(6):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", BALANCER, timeout=30)
            headers = {
                "Cookie": buyer["cookie"],
                "Host": f"127.0.0.1:{BALANCER}",
                "Content-Type": "application/x-www-form-urlencoded",
            }
            body = urlencode(buyer["form"]).encode()
            connection.request("POST", "/checkout/", body=body, headers=headers)
            status = connection.getresponse().status
            connection.close()
        except OSError as error:
            status = type(error).__name__
        answers.append(status)
        if status in (307, 302):  # placed now, or placed before: "already placed"
            return answers
        time.sleep(0.3)
    return answers


def kill_a_host(cluster):
    from django.db import connection

    from orders.models import Order

    shoppers = buyers(BUYERS)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(stock), 0) FROM catalog_productvariant")
        stock_before = cursor.fetchone()[0]
    done = []
    killed = threading.Event()

    def kill_when_under_way():
        while len(done) < BUYERS // 4:
            time.sleep(0.01)
        cluster.stop("host-B", signal.SIGKILL)
        killed.set()

    killer = threading.Thread(target=kill_when_under_way, daemon=True)
    killer.start()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        for answers in pool.map(checkout, shoppers):
            done.append(answers)
    seconds = time.monotonic() - started
    killed.wait(timeout=5)
    check(killed.is_set(), f"host B killed after {BUYERS // 4} of {BUYERS} checkouts")
    retried = sum(1 for answers in done if len(answers) > 1)
    placed = sum(1 for answers in done if answers[-1] in (307, 302))
    if placed != BUYERS:
        print("     answers:", Counter(tuple(answers) for answers in done).most_common(8))
    check(placed == BUYERS,
          f"every shopper's checkout answered as placed ({retried} sent their form again, "
          f"{BUYERS / seconds:.0f} checkouts/s)")  # fmt: skip
    orders = Order.objects.filter(user__email__startswith="buyer-")
    check(orders.count() == BUYERS, f"{BUYERS} orders, none lost")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT user_id FROM orders_order "
            "GROUP BY user_id HAVING count(*) > 1) doubled"
        )
        check(cursor.fetchone()[0] == 0, "no shopper has two orders")
        cursor.execute("SELECT COALESCE(SUM(stock), 0) FROM catalog_productvariant")
        stock_after = cursor.fetchone()[0]
        cursor.execute("SELECT COALESCE(SUM(quantity), 0) FROM orders_orderitem")
        ordered = cursor.fetchone()[0]
        check(
            stock_before - stock_after == ordered - 2,  # the journey's 2 were before
            f"stock: {stock_before} before, {stock_after} after, {ordered - 2} ordered",
        )
        cursor.execute(
            "SELECT count(*) FROM orders_order o WHERE o.subtotal <> "
            "(SELECT SUM(i.line_total) FROM orders_orderitem i WHERE i.order_id = o.id) "
            "OR o.total <> o.subtotal - o.discount + o.shipping + "
            "CASE WHEN o.prices_include_tax THEN 0 ELSE o.tax END"
        )
        check(cursor.fetchone()[0] == 0, "every order's lines add up to its subtotal and total")


def main():
    if not shutil.which("nginx"):
        fail("nginx is not installed: run `make cluster-check`, which installs it")
    started = time.monotonic()
    cluster = Cluster()
    try:
        admin_password = setup(cluster)
        say(f"two hosts, nginx, the worker, S3 and the Stripe stand-in up in "
            f"{time.monotonic() - started:.0f} s")  # fmt: skip
        journey(cluster)
        picture_and_price(cluster, admin_password)
        rate_limits(cluster)
        kill_a_host(cluster)
    finally:
        cluster.stop_all()
        import psycopg

        with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres",
                             autocommit=True) as db:  # fmt: skip
            db.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        shutil.rmtree(cluster.work, ignore_errors=True)
    print(f"cluster check passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
