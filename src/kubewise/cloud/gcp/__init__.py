"""Google Cloud: the GCE metadata server."""
