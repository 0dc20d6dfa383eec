"""The operators' web console under ``/console``: server-rendered pages (Jinja2), a little plain JS,
SVG charts drawn here, every asset shipped in the package (no CDN: it works with no internet).

Entry point only: the pages read through the services (``gateway.ops``) and the store/broker
figures (``connectors``); they never change state except through the same services the REST API
uses, each action recorded with who did it.

Errors: ``ConsoleError`` (``gateway.console.errors``) is the one tree; a page that cannot be shown
answers an HTML page with the problem's stable code and its Vietnamese and English text.
"""
