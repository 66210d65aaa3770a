# kitrun application image: gunicorn with uvicorn workers behind your HTTPS reverse proxy.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    KITRUN_DATA_DIR=/data KITRUN_ENV=production

RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm fonts-wqy-microhei curl \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/kitrun
COPY pyproject.toml README.md ./
COPY app ./app
COPY models ./models
COPY routes ./routes
COPY labels ./labels
COPY alembic.ini babel.cfg ./
COPY package.json package-lock.json ./
# Editable install: the app runs from /srv/kitrun, next to node_modules (the scanner's decoder
# is served from there) and its compiled translation catalogs.
RUN pip install -e . && npm ci --no-audit --no-fund --omit=dev \
 && pybabel compile -d app/i18n -D messages

RUN useradd --system --home /data kitrun && mkdir -p /data && chown kitrun /data
USER kitrun
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
CMD ["sh", "-c", "kitrun migrate && exec kitrun serve --host 0.0.0.0 --port 8000 --workers ${KITRUN_WORKERS:-4}"]
