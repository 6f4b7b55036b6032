"""The framework floor: a bare Flask route served by the same gunicorn settings, and a page
that runs one PostgreSQL query (the issue's second anchor), for context in the report."""

import os

import sqlalchemy as sa
from flask import Flask

app = Flask(__name__)
_engine = None


@app.get("/")
def hello():
    return "hello"


@app.get("/db")
def one_query():
    global _engine
    if _engine is None:
        _engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=10, max_overflow=10)
    with _engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM categories")).scalar()
    return f"{n} categories"
