"""Checkout, orders and their status history."""
