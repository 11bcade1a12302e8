"""Django's SQLite backend with writers taking turns, first come first served
(see base.py)."""
