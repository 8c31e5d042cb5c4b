"""Categories and products: the public catalogue and its back office."""
