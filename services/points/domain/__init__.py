"""points: domain rules (plain Python over a SQLAlchemy session; no Flask, no pika)."""
