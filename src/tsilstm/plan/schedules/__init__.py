"""One generator per schedule of DESIGN.md section 3; each returns a ``Program``."""
