"""The local web page, ``shapesmith serve``: type a layer, see its shapes, pictures and solver, live.

Starlette and uvicorn (the ``web`` extra) are imported only when the page is created or served.
"""

from .app import create_app, serve

__all__ = ["create_app", "serve"]
