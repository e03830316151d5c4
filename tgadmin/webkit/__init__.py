"""What every domain's pages and JSON API stand on: the request's unit of work, templates, bounded ids.

A toolkit: it knows no domain. `web/` builds the app from the domains' routers on top of it.
"""
