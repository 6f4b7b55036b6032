"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""

import gc

from portal import create_app

app = create_app()

# What loading the app made (modules, classes, mappers, ~200,000 tracked objects) lives as
# long as the process: the cyclic collector moves it aside instead of walking all of it again
# on every full collection (0.1 s a time, under load every few hundred requests of a long
# page; 5.5% of the signed-in proposal page's time in-process, 2% frozen). Python's own advice
# for a server's workers (``gc.freeze``); each gunicorn worker loads the app itself
# (``preload_app`` off), so this runs in every worker.
gc.freeze()
