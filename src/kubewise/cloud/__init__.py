"""What kubewise asks of (and later does in) the clouds, behind narrow protocols; one package per cloud."""
