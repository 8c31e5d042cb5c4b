"""Shoppers racing for the last items on SQLite, run by test_stock_guards in its own process.

Usage: python -m orders.tests.sqlite_race RESULT_JSON SHOPPERS STOCK, with DATABASE_URL naming a
throw-away SQLite file and the rest of the environment as `make run` has it. Migrates, gives each
shopper a cart holding one of a product's variant that has STOCK left, then places every
shopper's order at once, each from its own thread with its own connection, and writes what
happened to RESULT_JSON.
"""

import json
import os
import sys
import threading


def main(result_path, shoppers, stock):
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from catalog.models import Category, Product, ProductVariant
    from orders.exceptions import InsufficientStock
    from orders.models import Order
    from orders.tests.factories import checkout_request, fill_cart

    call_command("migrate", verbosity=0)
    category = Category.objects.create(name="Lamps", slug="lamps")
    lamp = Product.objects.create(category=category, name="Lamp", slug="lamp")
    variant = ProductVariant.objects.create(product=lamp, sku="LAMP-1", price="10.00", stock=stock)
    carts = []
    for n in range(shoppers):
        user = User.objects.create_user(f"shopper{n}@example.com")
        carts.append((checkout_request(fill_cart(user, [(variant, 1)]), user=user),))
    connection.close()

    from orders.services import order_place

    barrier = threading.Barrier(shoppers)
    outcomes = []

    def check_out(checkout):
        try:
            barrier.wait(timeout=30)
            order_place(checkout)
            outcomes.append("ordered")
        except InsufficientStock as exc:
            outcomes.append(f"refused: {exc.shortages[0]}")
        except Exception as exc:  # "database is locked" and the like: the test shows them
            outcomes.append(f"error: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=check_out, args=cart) for cart in carts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    result = {
        "engine": settings.DATABASES["default"]["ENGINE"],
        "transaction_mode": settings.DATABASES["default"]["OPTIONS"].get("transaction_mode"),
        "outcomes": sorted(outcomes),
        "orders": Order.objects.count(),
        "stock": ProductVariant.objects.get(pk=variant.pk).stock,
    }
    with open(result_path, "w") as file:
        json.dump(result, file)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
