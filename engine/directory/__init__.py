"""Who is who: units, people, web accounts and the access policy."""
