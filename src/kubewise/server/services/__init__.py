"""The server's rules, between the routes (HTTP) and the repositories (SQL)."""
