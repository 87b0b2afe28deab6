"""The officers' web app (FastAPI, server-rendered Jinja2): a thin layer over the engine."""
