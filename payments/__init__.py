"""Payment sessions and provider webhooks."""
