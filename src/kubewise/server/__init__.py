"""The platform server (`kubewise server`): organizations, API keys, clusters, ingest, policies, savings.

Layout, outside in: `app` builds the FastAPI application; `routes` parse and answer HTTP; `services`
hold the rules (who may do what, cluster status, validation); `db` holds the tables, the sessions and
the SQL (`db.repositories`); migrations are Alembic's, applied at start. The server keeps no state of
its own between requests, so several replicas can share one PostgreSQL database.
"""
