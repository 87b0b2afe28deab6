"""Routers: `auth` (/, /login, /logout), `pages` (officer pages), and later `api` (/api/…)."""
