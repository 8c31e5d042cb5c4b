"""Product pages say whether their prices include tax, as the store's setting says."""

import pytest

from catalog.tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("included", "wording"),
    [(True, "Tax included."), (False, "Plus tax where it applies.")],
)
def test_the_product_page_says_how_its_price_is_taxed(client, settings, included, wording):
    settings.PRICES_INCLUDE_TAX = included
    product = ProductFactory()

    page = client.get(product.get_absolute_url()).content.decode()

    assert wording in page
    other = "Plus tax where it applies." if included else "Tax included."
    assert other not in page
