"""SQLite state: db.py opens and migrates; one module per noun."""
