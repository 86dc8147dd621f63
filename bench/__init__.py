"""The benchmark: the running system under load, measured against what PostgreSQL alone can do."""
