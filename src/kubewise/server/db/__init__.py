"""Persistence: `tables`, engines and sessions (`engine`), migrations (`migrate`), SQL (`repositories`)."""
