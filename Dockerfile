# Zhangban (掌办) API image: production profile (PostgreSQL, Redis, MinIO).
#
#   docker build -t zhangban .
#   docker run --rm zhangban python -m api.cli migrate      # once per release, before servers
#   docker run -p 8000:8000 --env-file deploy/env zhangban  # serve (default command)
#
# Other commands: python -m api.cli worker | seed | demo | catalog import FILE | catalog export

# ---- builder: a virtual environment holding the pinned dependencies only -----------------------
FROM python:3.11.7-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build
COPY pyproject.toml ./
# Install [project].dependencies, not the project itself. core/db.py finds the aerich migrations
# at Path(core/db.py).parent.parent / "migrations", i.e. next to the packages; a non-editable
# `pip install .` would move api/core/catalog into site-packages (without migrations/), so
# `migrate` would find nothing. The runtime stage therefore runs the source tree from /app on
# PYTHONPATH. Every dependency has wheels for CPython 3.11 on manylinux: no compiler needed.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install -r requirements.txt

# ---- runtime: the venv, the source tree and nothing else, run as a non-root user ---------------
FROM python:3.11.7-slim-bookworm AS runtime

# Chinese glyphs for the "仅供办理…使用" watermark on document photos.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-wqy-zenhei \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 zhangban \
 && useradd --system --uid 10001 --gid zhangban --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin zhangban

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ZB_PROFILE=production \
    ZB_HOST=0.0.0.0 \
    ZB_PORT=8000

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app
# Code and migrations stay owned by root (read-only for the server user). migrations/ must sit
# next to core/ (see the builder comment); catalog/data/ carries the demo catalogue for `seed`.
COPY pyproject.toml ./
COPY api/ ./api/
COPY core/ ./core/
COPY catalog/ ./catalog/
COPY auth/ ./auth/
COPY storage/ ./storage/
COPY cases/ ./cases/
COPY sandbox/ ./sandbox/
COPY migrations/ ./migrations/
# Only the embedded profile writes here (ZB_VAR_DIR defaults to var/); production writes nothing.
RUN mkdir -p /app/var && chown zhangban:zhangban /app/var

USER 10001:10001
EXPOSE 8000

# Liveness only (/healthz); /readyz also checks the database and Redis. No curl in slim images.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["python", "-m", "api.cli", "serve"]
