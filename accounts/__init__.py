"""Shopper and staff accounts: email login, auth pages, staff roles."""
