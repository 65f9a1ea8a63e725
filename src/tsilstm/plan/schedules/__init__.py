"""One generator per schedule of docs/design.md section 3; each returns a ``Program``."""
