"""The content pages every store starts with, holding placeholder text for staff to replace.

Used by the data migration that creates them in a new store and by `seed_demo`.
"""

from catalog.cache import catalog_changed
from shop.pages.models import Page

PLACEHOLDER = "This is placeholder text: replace it in the back office, under Content pages."

# (slug, title, body): the footer lists them in this order.
DEFAULT_PAGES = [
    (
        "about",
        "About us",
        "We are a small shop selling everyday things for the kitchen, the garden and the home, "
        "chosen with care and sent out quickly.\n\n" + PLACEHOLDER,
    ),
    (
        "shipping-and-returns",
        "Shipping and returns",
        "Orders are packed and sent within two working days. Shipping is a flat rate, free on "
        "larger orders; the cart shows what you will pay before you order.\n\n"
        "Not happy with something? Send it back unused within 30 days and we will refund it.\n\n"
        + PLACEHOLDER,
    ),
    (
        "terms",
        "Terms and conditions",
        "These terms apply to every order placed in this shop. By placing an order you agree "
        "to them.\n\n" + PLACEHOLDER,
    ),
    (
        "privacy",
        "Privacy",
        "We keep the details you give us (your name, email and address) to deliver your orders "
        "and answer you, and for nothing else. We never sell them.\n\n" + PLACEHOLDER,
    ),
    (
        "contact",
        "Contact us",
        "Questions about an order or a product? Write to us and we will answer within one "
        "working day.\n\n" + PLACEHOLDER,
    ),
]


def create_missing_pages(page_model):
    """Create each default page whose slug is free; return how many were created.

    Takes the model so that the data migration can pass its historical one. Pages that staff
    renamed or unpublished are left as they are; one they deleted comes back.
    """
    slugs = [slug for slug, _, _ in DEFAULT_PAGES]
    taken = set(page_model.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    missing = [
        page_model(slug=slug, title=title, body=body, footer_order=10 * (position + 1))
        for position, (slug, title, body) in enumerate(DEFAULT_PAGES)
        if slug not in taken
    ]
    # ignore_conflicts: a page another process created meanwhile is kept as it is.
    page_model.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def seed_pages():
    """For `seed_demo`: the default pages that are missing, and the cached pages refreshed
    (bulk_create sends no signals, and every page's footer links to them)."""
    created = create_missing_pages(Page)
    if created:
        catalog_changed()
    return created
