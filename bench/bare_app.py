"""The baseline of the HTTP benchmark: a bare Flask app served by the same gunicorn configuration
(deploy/gunicorn.conf.py) — no database, no auth, no schemas — so a service's requests/s can be given as a
ratio to what the stack itself allows on this machine.

    gunicorn -c deploy/gunicorn.conf.py 'bench.bare_app:create_app()'
"""
from __future__ import annotations

from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask("weizhili.bench.bare")

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/bare")
    def read():
        return jsonify(ok=True, id="0193a5c2-7f1e-7b3a-9c1d-5e2f8a4b6c7d", balance=100)

    @app.post("/bare")
    def write():
        body = request.get_json()
        return jsonify(ok=True, received=len(body or {})), 201

    return app
