"""The framework floor: a bare Flask route served by the same gunicorn settings."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
