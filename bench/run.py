"""The store's benchmark: `make bench`. Production configuration, 10,000 products, real load.

gunicorn (2 workers, DEBUG off) on PostgreSQL and Redis; wrk from a second process for the pages;
bench/checkout_load.py for many shoppers checking out at once; pgbench running a checkout's SQL as
the database's own ceiling. Each page scenario runs after a warm-up, three times; the median is
reported. Writes bench/results/<date>.md and prints the same table.
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the store's packages, when run as bench/run.py
from bench import lighthouse  # noqa: E402 -- needs the path above

PY = sys.executable
PORT = int(os.environ.get("BENCH_PORT", "18890"))
BASE = f"http://127.0.0.1:{PORT}"
DB = "shop_bench"
CONNECTIONS = 16
BUYERS = 1000
WARM_UP_BUYERS = 100
BUYER_CONCURRENCY = 32
RUNS = 3
# What each page must reach: (least ratio to the bare view, most p99 in ms or None).
ANONYMOUS = (0.5, None)
PERSONAL = (0.3, 50.0)  # signed in, or a guest with a cart: the shoppers who buy
CART = (0.3, 50.0)
CHECKOUT_PAGE = (0.2, None)
SPREAD_CHECKOUT = 0.1  # orders/s as a share of pgbench's transactions/s
HOT_CHECKOUT = 0.2
MEMORY_MB = 100
PGBOUNCER_PORT = int(os.environ.get("BENCH_PGBOUNCER_PORT", "16432"))
PGBOUNCER_WORKERS = 4  # twice the store's own: the pooler keeps PostgreSQL's connections few


def met(value, relation, bound):
    """`value` and whether it meets `relation` `bound`, as the report writes it."""
    ok = {">=": value >= bound, "<": value < bound, "==": value == bound}[relation]
    shown = f"{value:.2f}" if isinstance(value, float) and value < 10 else f"{value:.0f}"
    return f"{shown} ({relation} {bound}: {'met' if ok else '**not met**'})"


# Where the buyers have their orders delivered, and the code the buyers of the code scenario
# share (bench/checkout.sql writes it into its orders).
COUNTRY = "GB"
BENCH_CODE = "BENCH10"
SERVER = {"pid": None}  # the bench's gunicorn, once started: its workers' CPU is measured

os.environ.update(
    {
        "ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "EMAIL_URL": "consolemail://",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench",
        "STRIPE_API_BASE": "http://127.0.0.1:9",
        "SECURE_SSL_REDIRECT": "false",
        "BENCHMARK_ENDPOINTS": "true",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_MAX_REQUESTS": "0",
        "MEDIA_ROOT": tempfile.mkdtemp(prefix="bench-media-"),
        "DJANGO_SETTINGS_MODULE": "shop.settings",
    }
)


def run(*args, **kwargs):
    return subprocess.run(args, check=True, cwd=ROOT, text=True, **kwargs)


def ensure_tools():
    if not shutil.which("wrk"):
        print("Installing wrk from Debian")
        run("apt-get", "update", "-qq")
        run("apt-get", "install", "-y", "-qq", "wrk", stdout=subprocess.DEVNULL)


def fresh_database():
    import psycopg
    import redis

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    run(PY, "manage.py", "migrate", "--noinput", "--verbosity", "0")
    run(PY, "manage.py", "collectstatic", "--noinput", "--verbosity", "0")
    run(PY, "manage.py", "seed_demo", "--products", "10000", "--verbosity", "0")


def start_gunicorn():
    # Left open for gunicorn to write to while it runs.
    log = (ROOT / "bench" / "results" / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [PY, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{PORT}",
         "bench.media_wsgi:application"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{BASE}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start; see bench/results/gunicorn.log")


def wrk(path, seconds, headers=()):
    args = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        "bench/wrk-json.lua",
    ]
    for header in headers:
        args += ["-H", header]
    out = run(*args, f"{BASE}{path}", capture_output=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def page(name, path, headers=(), *, target=None):
    """`target`: (least ratio to the bare view, most p99 ms or None) this page must reach."""
    wrk(path, 2, headers)  # warm-up: caches, connections, lazy imports
    runs = [wrk(path, 5, headers) for _ in range(3)]
    best = sorted(runs, key=lambda r: r["rps"])[1]  # the median run
    errors = sum(r["errors"] + r["non2xx"] for r in runs)
    print(f"  {name:<28} {best['rps']:>8.0f} req/s  p99 {best['p99_ms']:>6.1f} ms  errors {errors}")
    return {
        "name": name,
        "path": path,
        "rps": best["rps"],
        "p99_ms": best["p99_ms"],
        "errors": errors,
        "target": target,
    }


def signed_in_cookie(user):
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.cached_db import SessionStore
    from django.utils.crypto import get_random_string

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    csrf = get_random_string(32)
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}; csrftoken={csrf}", csrf


def guest_cookie(lines):
    """A guest's session holding a cart with `lines` [(variant, quantity)], as a cookie."""
    from django.conf import settings
    from django.contrib.sessions.backends.cached_db import SessionStore

    from cart.models import Cart, CartItem
    from cart.services import SESSION_CART_ID

    session = SessionStore()
    session.create()
    cart = Cart.objects.create(session_key=session.session_key)
    CartItem.objects.bulk_create(
        [CartItem(cart=cart, variant=variant, quantity=quantity) for variant, quantity in lines]
    )
    session[SESSION_CART_ID] = cart.pk
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def cpu_times():
    """CPU time used so far by each gunicorn worker and PostgreSQL process, in seconds:
    {pid: (kind, seconds)}, kind "workers" or "postgres"."""
    ticks = os.sysconf("SC_CLK_TCK")
    times = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: fields follow the last ")".
        fields = text[text.rindex(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        if cmdline.startswith((b"postgres", b"pgbouncer")):  # the database side, pooler and all
            times[int(stat.parent.name)] = ("postgres", used)
        elif int(fields[1]) == SERVER["pid"]:  # the ppid: a worker of the bench's gunicorn
            times[int(stat.parent.name)] = ("workers", used)
    return times


def cpu_used(before, after):
    """(workers, postgres) seconds spent between two cpu_times(). A process that ended
    meanwhile is not counted (its time is gone from /proc), one that started counts whole."""
    used = {"workers": 0.0, "postgres": 0.0}
    for pid, (kind, seconds) in after.items():
        earlier = before.get(pid)
        used[kind] += seconds - (earlier[1] if earlier and earlier[0] == kind else 0.0)
    return used["workers"], used["postgres"]


def delivery_and_code():
    """Delivery to the buyers' country in a zone of its own, Standard (the cheapest, which the
    checkout page offers first) and Express; and a 10% code anyone may use, as often as they
    like. Returns (standard, express, code)."""
    from pricing.models import ShippingMethod, ShippingZone, Voucher, VoucherKind
    from pricing.services import shipping_methods_for

    zone = ShippingZone.objects.create(name="United Kingdom", countries=[COUNTRY])
    standard = ShippingMethod.objects.create(
        zone=zone, name="Standard", price=Decimal("5.00"), free_from=Decimal("50.00"),
        delivery_estimate="3-5 working days",
    )  # fmt: skip
    express = ShippingMethod.objects.create(
        zone=zone, name="Express", price=Decimal("15.00"), delivery_estimate="1-2 working days"
    )
    if shipping_methods_for(COUNTRY) != [standard, express]:
        raise RuntimeError(f"{COUNTRY} should be offered Standard, then Express")
    code = Voucher.objects.create(
        code=BENCH_CODE, kind=VoucherKind.PERCENTAGE, value=Decimal("10"),
        description="The bench's shared code: no use limit, not once per customer",
    )  # fmt: skip
    return standard, express, code


def make_buyers(variants, label, *, method, code=""):
    """A shopper per entry of `variants`, with that variant in the cart (and `code` applied to
    it), ready to check out: the form the checkout page would post to deliver to COUNTRY by
    `method`, signed with the lines and the total that page showed."""
    from accounts.models import User
    from cart.models import Cart, CartItem
    from orders.services import checkout_signature
    from pricing.services import price

    users = User.objects.bulk_create(
        [
            User(email=f"{label}-{n}@bench.example", password="!")  # noqa: S106 -- unusable
            for n in range(len(variants))
        ]
    )
    carts = Cart.objects.bulk_create([Cart(user=user, voucher_code=code) for user in users])
    CartItem.objects.bulk_create(
        [
            CartItem(cart=cart, variant=variant, quantity=1)
            for cart, variant in zip(carts, variants, strict=True)
        ]
    )
    lines = {}
    for item in (
        CartItem.objects.filter(cart__in=carts)
        .select_related("variant__product")
        .order_by("cart_id", "variant_id")
    ):
        lines.setdefault(item.cart_id, []).append(item)
    buyers = []
    address = {"full_name": "Bench Buyer", "address_line1": "1 Road", "city": "Town",
               "postal_code": "12345", "country": COUNTRY}  # fmt: skip
    for user, cart in zip(users, carts, strict=True):
        items = lines[cart.pk]
        # strict: a code the store would refuse fails here, not as 409s under load.
        priced = price(items, country=COUNTRY, method=method, code=code, email=user.email,
                       strict=True)  # fmt: skip
        cookie, csrf = signed_in_cookie(user)
        form = {
            **address,
            "shipping_method": method.pk,
            "voucher_code": code,
            "note": "",
            "action": "place",
            "token": str(uuid.uuid4()),
            "signature": checkout_signature(items, priced.breakdown),
        }
        buyers.append({"cookie": cookie, "csrf": csrf, "form": form})
    return buyers


def code_uses():
    """(Uses counted on the codes, redemptions recorded), summed over every code."""
    from django.db.models import Sum

    from pricing.models import Voucher, VoucherRedemption

    used = Voucher.objects.aggregate(used=Sum("used"))["used"] or 0
    return used, VoucherRedemption.objects.count()


def checkout(name, label, variants, *, method, code=""):
    from catalog.models import ProductVariant
    from orders.models import Order

    before = dict(
        ProductVariant.objects.filter(pk__in={v.pk for v in variants}).values_list("pk", "stock")
    )
    orders_before = Order.objects.count()
    path = ROOT / "bench" / "results" / f"{label}.buyers.json"
    path.write_text(json.dumps(make_buyers(variants, label, method=method, code=code)))
    used_before, redeemed_before = code_uses()
    settle()
    cpu_before = cpu_times()
    out = run(PY, "bench/checkout_load.py", BASE, str(path), str(BUYER_CONCURRENCY),
              capture_output=True).stdout  # fmt: skip
    cpu_after = cpu_times()
    path.unlink()
    result = json.loads(out.strip().splitlines()[-1])
    made = Order.objects.count() - orders_before
    # CPU per order placed: the gunicorn workers' and PostgreSQL's, in milliseconds.
    result["cpu_ms"] = [
        seconds * 1000 / max(made, 1) for seconds in cpu_used(cpu_before, cpu_after)
    ]
    after = dict(ProductVariant.objects.filter(pk__in=before).values_list("pk", "stock"))
    sold = sum(before[pk] - after[pk] for pk in before)
    negative = ProductVariant.objects.filter(stock__lt=0).count()
    # Oversell: more sold than there was, stock below zero, or orders without their stock.
    result["oversell"] = max(0, sold - sum(before.values())) + negative + abs(made - sold)
    # Every order with the code recorded once, none without; the code has no use limit, so
    # its count is never written.
    used_after, redeemed_after = code_uses()
    expected = made if code else 0
    result["uses_miscounted"] = abs(used_after - used_before) + abs(
        redeemed_after - redeemed_before - expected
    )
    result["name"] = name
    print(f"  {name:<36} {result['orders_per_s']:>8.1f} orders/s  "
          f"{result['answers_per_s']:>6.1f} answers/s  {result['outcomes']}  "
          f"oversell {result['oversell']}  code uses miscounted "
          f"{result['uses_miscounted']}")  # fmt: skip
    return result


def settle():
    """Start each measured run from the same state: vacuumed tables, dirty pages written out.

    Without it a run that follows a burst of orders competes with autovacuum and the
    checkpoint that burst set off, which lowered pgbench's ceiling by up to a third.
    """
    import psycopg

    tables = "catalog_product, catalog_productvariant, cart_cart, cart_cartitem, orders_order, "
    tables += "orders_orderitem, orders_orderevent, pricing_voucher, pricing_voucherredemption, "
    # The order's email and its task, queued in each checkout's transaction.
    tables += "shop_email, django_tasks_database_dbtaskresult"
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f"VACUUM (ANALYZE) {tables}")
        conn.execute("CHECKPOINT")


def checkout_scenario(name, key, pick, stock, **buying):
    """A warm-up, then RUNS runs of BUYERS shoppers, each on `pick(n)` variants set to
    `stock(n)`, checking out with `buying` (make_buyers' method and code); the median run by
    orders/s, with the oversell and miscounted code uses of every run."""
    from catalog.models import ProductVariant

    runs = []
    for run_ in range(RUNS + 1):
        count = BUYERS if run_ else WARM_UP_BUYERS
        variants = pick(count)
        ProductVariant.objects.filter(pk__in={v.pk for v in variants}).update(stock=stock(count))
        label = f"run {run_}" if run_ else "warm-up"
        runs.append(checkout(f"{name}, {label}", f"{key}-{run_}", variants, **buying))
    measured = runs[1:]
    median = sorted(measured, key=lambda r: r["orders_per_s"])[len(measured) // 2]
    return {
        **median,
        "name": name,
        "oversell": sum(r["oversell"] for r in runs),
        "uses_miscounted": sum(r["uses_miscounted"] for r in runs),
    }


def pgbench(name, script, variables):
    """The median of RUNS pgbench runs of 5 s, in transactions/s."""
    args = ["pgbench", "-n", "-c", str(BUYER_CONCURRENCY), "-j", "2", "-T", "5", "-f", script]
    for key, value in variables.items():
        args += ["-D", f"{key}={value}"]
    runs = []
    for _ in range(RUNS):
        settle()
        out = run(*args, os.environ["DATABASE_URL"], capture_output=True).stdout
        runs.append(float(re.search(r"tps = ([\d.]+)", out).group(1)))
    tps = sorted(runs)[len(runs) // 2]
    print(f"  {name:<28} {tps:>8.0f} transactions/s (runs: {', '.join(f'{r:.0f}' for r in runs)})")
    return tps


def ceilings(hot, standard, express, code):
    """pgbench's transactions/s for the checkout SQL: spread, spread with `code` and Express,
    and on the hot variant."""
    from accounts.models import User
    from cart.models import Cart
    from catalog.models import ProductVariant

    # One shopper and cart per pgbench client, as in the store: clients sharing one cart row
    # would queue on its lock and understate what PostgreSQL can do.
    users = User.objects.bulk_create(
        [User(email=f"pgbench-{n}@bench.example", password="!") for n in range(BUYER_CONCURRENCY)]  # noqa: S106
    )
    carts = Cart.objects.bulk_create([Cart(user=user) for user in users])
    for rows in (users, carts):
        if [row.pk - rows[0].pk for row in rows] != list(range(len(rows))):
            raise RuntimeError("pgbench shoppers and carts need consecutive ids")
    ids = list(ProductVariant.objects.order_by("pk").values_list("pk", flat=True))
    if ids != list(range(ids[0], ids[-1] + 1)):
        raise RuntimeError("pgbench picks variants by id at random: they need consecutive ids")
    ProductVariant.objects.update(stock=1_000_000)
    script = (ROOT / "bench/checkout.sql").read_text()
    spread_script = Path(tempfile.mkstemp(suffix=".sql")[1])
    spread_script.write_text(f"\\set variant random({ids[0]}, {ids[-1]})\n" + script)
    common = {"first_user": users[0].pk, "first_cart": carts[0].pk, "voucher": code.pk}
    plain = {**common, "method": standard.pk, "with_code": 0}
    spread = pgbench("spread over many variants", str(spread_script), plain)
    with_code = pgbench(
        "spread, a code and Express", str(spread_script),
        {**common, "method": express.pk, "with_code": 1},
    )  # fmt: skip
    hot_ = pgbench("one hot variant", "bench/checkout.sql", {**plain, "variant": hot.pk})
    return spread, with_code, hot_


def worker_memory_mb(master):
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{master}$", text, re.M):
            sizes.append(int(re.search(r"^VmRSS:\s+(\d+)", text, re.M).group(1)) / 1024)
    return max(sizes)


def machine():
    memory_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return f"{os.cpu_count()} cores, {memory_kb / 1024 / 1024:.1f} GiB memory, {sys.platform}"


def main():
    started = time.monotonic()
    ensure_tools()
    print("Setting up: fresh database, 10,000 products, static files")
    fresh_database()
    import django

    django.setup()
    from accounts.models import User
    from catalog.models import Product, ProductVariant
    from orders.tests.factories import fill_cart

    standard, express, code = delivery_and_code()

    # What shoppers can buy: active variants of active products.
    sold = ProductVariant.objects.filter(is_active=True, product__is_active=True)
    shopper = User.objects.create_user("shopper@bench.example", None)
    lines = [(v, 1) for v in sold.filter(stock__gt=5).select_related("product")[:5]]
    fill_cart(shopper, lines)
    shopper_cookie, _ = signed_in_cookie(shopper)
    guest = guest_cookie(lines)
    detail = Product.objects.available().in_stock().first().get_absolute_url()

    server = start_gunicorn()
    SERVER["pid"] = server.pid
    try:
        print(f"Pages, {CONNECTIONS} connections (median of 3 runs of 5 s):")
        pages = [page("bare Django view (ceiling)", "/bench/bare/")]
        catalogue = [
            ("home", "/"),
            ("product list, page 1", "/products/"),
            ("product list, page 200", "/products/?page=200"),
            # Filters in their canonical form (as the list's own links write them): cached.
            ("product list, filtered", "/products/?in_stock=1&max_price=100&option=Size:M"),
            ("search", "/products/?q=lantern"),
            ("product detail", detail),
        ]
        for name, path in catalogue:
            pages.append(page(f"{name} (anonymous)", path, target=ANONYMOUS))
        # The shoppers who buy: the pages they browse before buying.
        browsed = [(name, path) for name, path in catalogue if name != "home" and "200" not in name]
        for who, cookie in (("signed in", shopper_cookie), ("guest with a cart", guest)):
            for name, path in browsed:
                headers = [f"Cookie: {cookie}"]
                pages.append(page(f"{name} ({who})", path, headers, target=PERSONAL))
        pages += [
            page("cart (signed in, 5 lines)", "/cart/", [f"Cookie: {shopper_cookie}"],
                 target=CART),
            page("checkout page (signed in, 5 lines)", "/checkout/",
                 [f"Cookie: {shopper_cookie}"], target=CHECKOUT_PAGE),
        ]  # fmt: skip
        print(f"Lighthouse, mobile (median of {lighthouse.RUNS} runs):")
        audit = lighthouse.audit(
            BASE, [("home", "/"), ("product list", "/products/"), ("product detail", detail)]
        )
        print("\n".join(lighthouse.markdown(audit)))
        print(f"Checkout, {BUYERS} shoppers, {BUYER_CONCURRENCY} at once (median of {RUNS} runs):")
        hot = sold.order_by("pk").first()

        def spread_pick(n):
            return list(sold.exclude(pk=hot.pk).order_by("?")[:n])

        spread = checkout_scenario(
            "spread over many variants", "spread", spread_pick, lambda n: 100, method=standard
        )
        # Every shopper with the same code (no use limit): each checkout shares its row lock.
        with_code = checkout_scenario(
            "spread, with a shared code and a chosen method (Express)",
            "code",
            spread_pick,
            lambda n: 100,
            method=express,
            code=code.code,
        )
        # Stock for half the shoppers: the other half find it gone, which is what shows
        # that nothing is oversold.
        hot_run = checkout_scenario(
            f"one hot variant (stock {BUYERS // 2})", "hot", lambda n: [hot] * n, lambda n: n // 2,
            method=standard,
        )  # fmt: skip
        memory = worker_memory_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    pooled = through_pgbouncer(spread_pick, standard)

    print(f"PostgreSQL alone, the same SQL (pgbench, median of {RUNS} runs of 5 s):")
    ceiling_spread, ceiling_code, ceiling_hot = ceilings(hot, standard, express, code)

    checkouts = [(spread, ceiling_spread), (with_code, ceiling_code), (hot_run, ceiling_hot)]
    report(pages, audit, checkouts, memory, time.monotonic() - started,
           pooled=(pooled, ceiling_spread))  # fmt: skip


def through_pgbouncer(pick, method):
    """The spread checkout again with the store through PgBouncer in transaction pooling
    (deploy/pgbouncer.sh, PGBOUNCER=true) and PGBOUNCER_WORKERS gunicorn workers."""
    run("bash", "deploy/pgbouncer.sh", "start", str(PGBOUNCER_PORT))
    direct = {name: os.environ[name] for name in ("DATABASE_URL", "GUNICORN_WORKERS")}
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{PGBOUNCER_PORT}/{DB}",
        GUNICORN_WORKERS=str(PGBOUNCER_WORKERS),
        PGBOUNCER="true",
    )
    try:
        server = start_gunicorn()
        SERVER["pid"] = server.pid
        try:
            name = f"spread, through PgBouncer, {PGBOUNCER_WORKERS} workers"
            return checkout_scenario(name, "pooled", pick, lambda n: 100, method=method)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        os.environ.update(direct)
        del os.environ["PGBOUNCER"]
        run("bash", "deploy/pgbouncer.sh", "stop", str(PGBOUNCER_PORT))


def report(pages, audit, checkouts, memory, seconds, pooled):
    """`checkouts`: (scenario, pgbench tx/s) pairs; plain spread, with a code, hot. `pooled`:
    the spread scenario through PgBouncer, and its pgbench ceiling."""
    bare = pages[0]["rps"]
    (spread, ceiling_spread), (with_code, ceiling_code), (hot, ceiling_hot) = checkouts
    lines = [
        f"# Benchmark {datetime.date.today().isoformat()}",
        "",
        f"Machine: {machine()}. gunicorn with 2 sync workers, DEBUG off, PostgreSQL and Redis on",
        f"the same machine, 10,000 products. Load from a second process on loopback: wrk with "
        f"{CONNECTIONS} connections for pages (median of three 5 s runs after a 2 s warm-up), "
        f"{BUYER_CONCURRENCY} concurrent shoppers for checkout (median of {RUNS} runs of "
        f"{BUYERS} shoppers after a warm-up of {WARM_UP_BUYERS}; oversell summed over all runs), "
        f"pgbench with {BUYER_CONCURRENCY} clients (median of {RUNS} runs of 5 s). "
        f"Run took {seconds:.0f} s.",
        "",
        "| Page | req/s | p99 ms | ratio to bare view | target | met | errors |",
        "|---|---:|---:|---:|---|---|---:|",
    ]
    for p in pages:
        ratio = p["rps"] / bare
        target, reached = "", ""
        if p["target"]:
            least, p99 = p["target"]
            target = f">= {least}" + (f", p99 < {p99:.0f} ms" if p99 else "")
            reached = "yes" if ratio >= least and (p99 is None or p["p99_ms"] < p99) else "**no**"
        lines.append(
            f"| {p['name']} | {p['rps']:.0f} | {p['p99_ms']:.1f} | {ratio:.2f} | {target} | "
            f"{reached} | {p['errors']} |"
        )
    lines += ["", *lighthouse.markdown(audit)]
    lines += [
        "",
        "| Checkout | orders/s | pgbench tx/s | ratio | answers/s | outcomes | oversell | p99 ms "
        "| CPU ms per order (workers, PostgreSQL) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for run_, ceiling in [*checkouts, pooled]:
        outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(run_["outcomes"].items()))
        lines.append(
            f"| {run_['name']} | {run_['orders_per_s']:.1f} | {ceiling:.0f} | "
            f"{run_['orders_per_s'] / ceiling:.2f} | {run_['answers_per_s']:.1f} | {outcomes} | "
            f"{run_['oversell']} | {run_['p99_ms']} | "
            f"{run_['cpu_ms'][0]:.1f}, {run_['cpu_ms'][1]:.1f} |"
        )
    lines += [
        "",
        "Orders/s counts the time while there was stock to sell (on the hot variant, until it "
        "sold out); answers/s counts every shopper over the whole run, refusals included.",
        "",
        f"Buyers have their orders delivered to {COUNTRY}, by its cheapest method unless "
        f"chosen. With one shared code and Express: {with_code['orders_per_s']:.1f} "
        f"orders/s, {with_code['orders_per_s'] / spread['orders_per_s']:.2f} of the plain spread "
        f"checkout's; pgbench {ceiling_code / ceiling_spread:.2f} of its ceiling (every checkout "
        f"with the code shares a lock on its row, which PostgreSQL records on the row for each "
        f"holder). Code uses miscounted: "
        f"{with_code['uses_miscounted']}.",
        "",
        f"Through PgBouncer (transaction pooling, prepared statements off) with "
        f"{PGBOUNCER_WORKERS} workers: {pooled[0]['orders_per_s']:.1f} orders/s, "
        f"{pooled[0]['orders_per_s'] / spread['orders_per_s']:.2f} of the direct spread "
        f"checkout's with 2; PgBouncer's CPU is counted with PostgreSQL's.",
        "",
        f"Memory of one gunicorn worker after the load: {memory:.0f} MB.",
        "",
        "Targets: checkout spread over many variants "
        + met(spread["orders_per_s"] / ceiling_spread, ">=", SPREAD_CHECKOUT)
        + " of pgbench; one hot variant "
        + met(hot["orders_per_s"] / ceiling_hot, ">=", HOT_CHECKOUT)
        + "; oversell "
        + met(sum(run_["oversell"] for run_, _ in [*checkouts, pooled]), "==", 0)
        + "; worker memory "
        + met(memory, "<", MEMORY_MB)
        + " MB.",
        "",
    ]
    text = "\n".join(lines)
    out = ROOT / "bench" / "results" / f"{datetime.date.today().isoformat()}.md"
    out.write_text(text)
    print()
    print(text)
    print(f"Written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
