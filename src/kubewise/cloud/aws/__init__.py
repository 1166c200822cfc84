"""AWS through boto3 (the only package that imports it)."""
