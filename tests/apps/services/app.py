"""berth test fixture: a Flask app that reaches its add-on services only through the URLs
berth injects (DATABASE_URL for postgres, MYSQL_URL for mysql, REDIS_URL for redis)."""

import os
import signal
import sys
from urllib.parse import unquote, urlparse

import psycopg2
import pymysql
import redis
from flask import Flask, request

app = Flask(__name__)
TEXT = {"Content-Type": "text/plain"}


@app.get("/")
def index():
    return "hello from services", 200, TEXT


@app.get("/env/<key>")
def env(key):
    return os.environ.get(key, ""), 200, TEXT


def pg():
    return psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)


@app.post("/pg")
def pg_write():
    with pg() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS notes (body text)")
        cur.execute("INSERT INTO notes VALUES (%s)", (request.get_data(as_text=True),))
    return "ok", 200, TEXT


@app.get("/pg")
def pg_read():
    with pg() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS notes (body text)")
        cur.execute("SELECT body FROM notes ORDER BY body")
        return "\n".join(r[0] for r in cur.fetchall()), 200, TEXT


def my():
    u = urlparse(os.environ["MYSQL_URL"])
    return pymysql.connect(host=u.hostname, port=u.port or 3306, user=unquote(u.username),
                           password=unquote(u.password), database=u.path.lstrip("/"),
                           connect_timeout=5, autocommit=True)


@app.post("/mysql")
def mysql_write():
    with my() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS notes (body text)")
        cur.execute("INSERT INTO notes VALUES (%s)", (request.get_data(as_text=True),))
    return "ok", 200, TEXT


@app.get("/mysql")
def mysql_read():
    with my() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS notes (body text)")
        cur.execute("SELECT body FROM notes ORDER BY body")
        return "\n".join(r[0] for r in cur.fetchall()), 200, TEXT


def rd():
    return redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)


@app.put("/redis/<key>")
def redis_set(key):
    rd().set(key, request.get_data())
    return "ok", 200, TEXT


@app.get("/redis/<key>")
def redis_get(key):
    value = rd().get(key)
    return (value or b"").decode(), 200, TEXT


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")))
