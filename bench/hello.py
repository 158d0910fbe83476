"""The framework's hello-world: the ceiling the catalogue benchmark compares against.

Serve it the way bench/catalog.sh does (from the project root):

    .venv/bin/sanic bench.hello:app --no-access-logs --no-motd --workers 2 \
        --host 127.0.0.1 --port 8001
"""

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

app = Sanic("hello")


@app.get("/")
async def hello(request: Request) -> HTTPResponse:
    return json({"hello": "world"})
