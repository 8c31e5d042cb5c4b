"""Redis stopped or frozen (SIGSTOP) under the shoppers' feet, on a redis-server of the test's
own: every page and every change keeps working from PostgreSQL, nothing waits for Redis for
long, rate limits keep limiting, and the page cache is back when Redis is."""

import time
from datetime import timedelta
from io import StringIO

import pytest
import redis
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog.cache import forget_local
from catalog.tests.factories import ProductFactory, only_variant
from orders.models import Order, OrderStatus
from orders.tests.factories import checkout_page_fields, place_order
from payments.tests import conftest as payment_fixtures
from shop.checks import rate_limits_use_a_shared_cache

pytestmark = pytest.mark.django_db
# The Stripe API double and signed webhook deliveries of the payments tests.
stripe_api = payment_fixtures.stripe_api
deliver = payment_fixtures.deliver

# The most a request may take while Redis is frozen: it waits for Redis at most REDIS_TIMEOUT
# (0.25 s), and then not again for RETRY_AFTER. Before, one took 2 s per call to Redis.
BOUND = 1.0


def take_down(server, how):
    if how == "stopped":
        server.stop()
    else:
        server.freeze()


def bring_back(server, how):
    if how == "stopped":
        server.start()
    else:
        server.thaw()
    time.sleep(0.6)  # the fixture's RETRY_AFTER: this process tries Redis again


class Timed:
    """A test client that times every request, and refuses any 500 (the test client would
    otherwise raise the view's exception, which is the same thing)."""

    def __init__(self, client=None):
        self.client = client or Client()
        self.times = []

    def _timed(self, method, path, *args, **kwargs):
        started = time.perf_counter()
        response = getattr(self.client, method)(path, *args, **kwargs)
        self.times.append(time.perf_counter() - started)
        assert response.status_code < 500, path
        return response

    def get(self, path, *args, **kwargs):
        return self._timed("get", path, *args, **kwargs)

    def post(self, path, *args, **kwargs):
        return self._timed("post", path, *args, **kwargs)


def signed_in(client):
    return client.get(reverse("accounts:account")).status_code == 200


def add_to_cart(client, product, quantity=1):
    return client.post(reverse("cart:add"), {"product": product.pk, "quantity": quantity})


def stored_pages(server):
    return sum(1 for _ in redis.Redis.from_url(server.url).scan_iter(match="*:page:*"))


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_browsing_cart_and_checkout_work_while_redis_is_away(redis_server, client, how):
    lamp = ProductFactory(name="Lamp", slug="lamp", stock=5)
    mug = ProductFactory(name="Mug", slug="mug", stock=5)
    ProductFactory(name="Vase", slug="vase", stock=5)
    guest = Timed()
    assert add_to_cart(guest, lamp).status_code == 302
    shopper = Timed(client)
    client.force_login(UserFactory())
    assert signed_in(shopper)
    Timed().get("/products/lamp/")  # in the page cache

    take_down(redis_server, how)

    visitor = Timed()  # anonymous, with no session: served what every visitor is
    for path in ("/", "/products/", "/products/?q=lamp", "/products/lamp/", "/products/mug/"):
        assert visitor.get(path).status_code == 200
    # The guest's cart, tied to a session Redis held a copy of, is read from the database.
    assert "Lamp" in guest.get(reverse("cart:detail")).content.decode()
    assert add_to_cart(guest, mug).status_code == 302
    assert "Mug" in guest.get(reverse("cart:detail")).content.decode()
    newcomer = Timed()
    assert add_to_cart(newcomer, mug).status_code == 302
    assert "Mug" in newcomer.get(reverse("cart:detail")).content.decode()
    # The signed-in shopper stays signed in, fills a cart and places the order.
    assert signed_in(shopper)
    assert add_to_cart(shopper, lamp, 2).status_code == 302
    assert shopper.get(reverse("orders:checkout")).status_code == 200
    placed = shopper.post(reverse("orders:checkout"), checkout_page_fields(shopper))
    order = Order.objects.get()
    assert placed.status_code == 307
    assert order.status == OrderStatus.PENDING_PAYMENT
    assert only_variant(lamp).stock == 3
    assert signed_in(shopper)

    times = visitor.times + guest.times + newcomer.times + shopper.times
    assert max(times) < BOUND, times

    bring_back(redis_server, how)

    assert signed_in(shopper)
    assert "Mug" in guest.get(reverse("cart:detail")).content.decode()
    # The page cache is used again: a page rendered now is stored in Redis for every process.
    before = stored_pages(redis_server)
    assert Timed().get("/products/vase/").status_code == 200
    assert stored_pages(redis_server) == before + 1


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_webhooks_and_the_release_job_work_while_redis_is_away(
    redis_server, client, shopper, stripe_api, deliver, django_capture_on_commit_callbacks, how
):
    product = ProductFactory(stock=10)
    expiring, failing, stale = (place_order([(product, 1)], user=shopper) for _ in range(3))
    for order in (expiring, failing, stale):
        client.post(reverse("payments:start", args=[order.number]))
    sessions = {o.pk: stripe_api.sessions[o.payments.get().session_id] for o in (expiring, failing)}
    Order.objects.filter(pk=stale.pk).update(created=timezone.now() - timedelta(minutes=120))

    take_down(redis_server, how)

    # The after-commit work runs too (the catalogue version bump, emails): it used to call
    # Redis inside the restocking transaction.
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        expired = deliver(
            "checkout.session.expired", {**sessions[expiring.pk], "status": "expired"}
        )
        stripe_api.complete(sessions[failing.pk]["id"], payment_status="unpaid")
        failed = deliver("checkout.session.async_payment_failed", sessions[failing.pk])
        call_command("release_unpaid_orders", "--older-than", "60", stdout=StringIO())
    assert time.perf_counter() - started < BOUND  # the three of them
    success = Timed(client).get(
        reverse("payments:success"), {"session_id": sessions[expiring.pk]["id"]}
    )

    assert (expired.status_code, failed.status_code, success.status_code) == (200, 200, 200)
    assert Order.objects.get(pk=expiring.pk).status == OrderStatus.CANCELLED
    assert Order.objects.get(pk=failing.pk).status == OrderStatus.PAYMENT_FAILED
    assert Order.objects.get(pk=stale.pk).status == OrderStatus.CANCELLED
    assert only_variant(product).stock == 10


@pytest.mark.parametrize("how", ["stopped", "frozen"])
def test_rate_limits_still_refuse_past_the_limit_while_redis_is_away(redis_server, settings, how):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "cart": "3/h"}
    product = ProductFactory(stock=50)
    guest = Timed()

    take_down(redis_server, how)

    answers = [add_to_cart(guest, product).status_code for _ in range(4)]

    # Counted in the worker's own memory: each worker allows the limit, none lets all through.
    assert answers == [302, 302, 302, 429]
    assert max(guest.times) < BOUND, guest.times


def test_a_frozen_redis_costs_one_timeout_per_retry_interval_not_one_per_call(
    redis_server, settings
):
    # The production interval: over these requests (well under 5 s), Redis is tried once.
    settings.CACHES = {
        alias: {**config, "RETRY_AFTER": settings.REDIS_RETRY_AFTER}
        for alias, config in settings.CACHES.items()
    }
    product = ProductFactory(slug="lamp", stock=50)
    redis_server.freeze()

    visitor = Timed()
    for number in range(10):
        visitor.get("/products/", {"q": f"lamp{number}"})  # uncached: a read and a write each
        add_to_cart(visitor, product)  # the session and the rate limit: several calls

    waited = [took for took in visitor.times if took >= settings.REDIS_TIMEOUT]
    assert len(waited) == 1, visitor.times
    assert max(visitor.times) < BOUND


def test_a_session_logged_out_while_redis_was_frozen_does_not_come_back_from_it(
    redis_server, client, settings
):
    client.force_login(UserFactory())
    assert signed_in(client)  # Redis holds a copy of the session
    stolen = Client()  # the same session cookie, copied before the logout
    cookie = settings.SESSION_COOKIE_NAME
    stolen.cookies[cookie] = client.cookies[cookie].value

    redis_server.freeze()
    client.post(reverse("accounts:logout"))  # deleted from the database, not from Redis
    assert not signed_in(client)
    redis_server.thaw()
    time.sleep(0.6)  # the fixture's RETRY_AFTER

    # Redis still has the old copy: this process deleted it first thing when Redis answered.
    assert not signed_in(stolen)


def test_keys_left_behind_in_a_long_outage_are_bounded_giving_up_the_oldest(redis_server, caplog):
    from django.core.cache import caches

    from shop.cache import MAX_UNWRITTEN

    sessions = caches["sessions"]
    sessions.set("first", "old copy")
    sessions.set("last", "old copy")
    redis_server.freeze()
    sessions.get("first")  # sent, and timed out: from here on Redis is not called

    sessions.delete("first")
    for number in range(MAX_UNWRITTEN - 1):
        sessions.delete(f"other-{number}")
    sessions.delete("last")
    redis_server.thaw()
    time.sleep(0.6)

    assert sessions.get("last") is None  # deleted before anything was read
    assert sessions.get("first") == "old copy"  # one too many: given up, and said so
    assert f"more than {MAX_UNWRITTEN} keys could not be written" in caplog.text


def test_a_change_made_while_redis_was_frozen_is_shown_once_it_is_back(
    redis_server, django_capture_on_commit_callbacks
):
    product = ProductFactory(slug="lamp", name="Lamp")
    assert "Lamp" in Client().get("/products/lamp/").content.decode()  # cached in Redis
    redis_server.freeze()

    product.name = "Lantern"
    with django_capture_on_commit_callbacks(execute=True):
        product.save()
    assert "Lantern" in Client().get("/products/lamp/").content.decode()

    redis_server.thaw()
    time.sleep(0.6)
    forget_local()  # as another worker: only Redis's copy of the old page

    html = Client().get("/products/lamp/").content.decode()
    assert "Lantern" in html
    assert "Lamp" not in html


def test_the_rate_limit_cache_counts_as_shared_for_the_deploy_check(settings):
    assert (
        settings.CACHES[settings.RATELIMIT_USE_CACHE]["BACKEND"] == "shop.cache.ResilientRedisCache"
    )
    assert rate_limits_use_a_shared_cache(None) == []

    settings.CACHES = {"ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [error.id for error in rate_limits_use_a_shared_cache(None)] == ["shop.E001"]
