#!/usr/bin/env bash
# Make sure the local PostgreSQL the multi-instance tests use is up (this machine kind ships it;
# elsewhere the tests skip with a visible reason). Never fails the build by itself.
set -u
url_host=127.0.0.1
if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -h "$url_host" -p 5432 -q; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      echo "starting PostgreSQL…"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
  fi
  pg_isready -h "$url_host" -p 5432 || echo "PostgreSQL not reachable: its tests will skip (reason shown)"
else
  echo "pg_isready not found: PostgreSQL tests will skip (reason shown)"
fi
exit 0
