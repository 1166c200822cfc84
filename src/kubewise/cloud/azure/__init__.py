"""Azure: the instance metadata service."""
