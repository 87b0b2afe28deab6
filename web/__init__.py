"""The officers' web app (FastAPI, server-rendered Jinja2): a thin layer over the engine.

`create_app(rt, settings)` builds it; see docs/web.md for how routes are written.
"""

from web.app import create_app

__all__ = ["create_app"]
