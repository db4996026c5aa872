"""berth test fixture: a tiny Flask app answering on 0.0.0.0:$PORT."""

import os
import signal
import sys

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "hello from flask", 200, {"Content-Type": "text/plain"}


@app.get("/env/<key>")
def env(key):
    return os.environ.get(key, ""), 200, {"Content-Type": "text/plain"}


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")))
