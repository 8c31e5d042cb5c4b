"""Shopping carts of signed-in shoppers and guests."""
