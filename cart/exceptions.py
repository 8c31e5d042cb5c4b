"""Why a cart change was refused, in words a shopper can read."""


class CartError(Exception):
    pass


class ProductUnavailable(CartError):
    def __init__(self, product):
        super().__init__(f"Sorry, {product.name} is no longer available.")


class OutOfStock(CartError):
    def __init__(self, product):
        super().__init__(f"Sorry, {product.name} is out of stock.")
