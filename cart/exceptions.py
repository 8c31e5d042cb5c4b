"""Why a cart change was refused, in words a shopper can read."""


def variant_name(variant):
    """ "Shirt (Size: M / Colour: Blue)", or the product's name for a simple product."""
    return f"{variant.product.name} ({variant.label})" if variant.label else variant.product.name


class CartError(Exception):
    pass


class ProductUnavailable(CartError):
    def __init__(self, variant):
        super().__init__(f"Sorry, {variant_name(variant)} is no longer available.")


class OutOfStock(CartError):
    def __init__(self, variant):
        super().__init__(f"Sorry, {variant_name(variant)} is out of stock.")


class NoSuchChoice(CartError):
    """The options chosen make no variant of the product (or not one that is sold)."""

    def __init__(self, product, label=""):
        what = f"{product.name} in {label}" if label else f"That choice of {product.name}"
        super().__init__(f"Sorry, {what} is not available. Choose another combination.")
