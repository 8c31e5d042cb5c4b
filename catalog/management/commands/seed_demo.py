"""Fill the store with a demonstration catalogue, delivery, tax rates and a discount code; safe to
run again."""

from django.core.management.base import BaseCommand, CommandError

from catalog.demo import demo_catalog_seed, demo_pricing_seed
from catalog.models import Product
from shop.pages.defaults import seed_pages


class Command(BaseCommand):
    help = (
        "Create demo categories and products (with pictures), delivery at home, tax rates and "
        "the WELCOME10 code. Running it again adds only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--products", type=int, default=48, help="How many products (default 48)."
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="Random seed: the same seed, the same catalogue."
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the store already has products (used by `make run`).",
        )

    def handle(self, *args, products, seed, if_empty, verbosity, **options):
        if products < 0 or products > 1_000_000:
            raise CommandError("--products must be between 0 and 1,000,000.")
        if if_empty and Product.objects.exists():
            if verbosity >= 1:
                self.stdout.write("The store already has products; no demo catalogue added.")
            return

        def progress(done, total):
            if verbosity >= 1 and total >= 1000:
                self.stdout.write(f"  {done:,}/{total:,} products")

        result = demo_catalog_seed(products=products, seed=seed, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo catalogue: {result.categories_created} categories and "
                f"{result.products_created:,} products created "
                f"({products:,} requested) in {result.seconds:.2f}s."
            )
        )
        self.stdout.write(f"Content pages: {seed_pages()} created (the missing default ones).")
        pricing = demo_pricing_seed()
        self.stdout.write(
            f"Pricing: {pricing.zones_created} shipping zone(s), {pricing.methods_created} "
            f"method(s), {pricing.tax_rates_created} tax rate(s) and {pricing.vouchers_created} "
            "discount code(s) created."
        )
