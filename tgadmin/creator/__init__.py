"""Creators ("models" in the buyer's words): the storefront's catalog, each with previews and products."""
