# notifierd daemon image: slim, non-root, config mounted at /config.
#   docker build -t notifierd .
#   docker run --rm -v "$PWD/config:/config:ro" -e REDIS_URL=... -e POSTGRES_URL=... \
#     -e NOTIFIERD_API_TOKEN=... -p 9464:9464 notifierd
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY notifierd ./notifierd
COPY schemas ./schemas
# The base image's pip and setuptools lag behind their security fixes: upgrade them first.
RUN pip install --no-cache-dir --upgrade pip setuptools \
    && pip install --no-cache-dir build && python -m build --wheel --outdir /wheels

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin notifierd
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --upgrade pip setuptools \
    && pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY config /config
USER notifierd
ENV NOTIFIERD_CONFIG=/config \
    NOTIFIERD_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=2).status == 200 else 1)"
# The listener binds every interface, so without NOTIFIERD_API_TOKEN (or principals' tokens) this
# refuses to start (exit 2): give the container credentials (SECURITY.md, "The HTTP listener").
# One worker per core the container may use (--cpuset-cpus, --cpus), ~70 MiB each plus an 18 MiB
# supervisor; -e NOTIFIERD_WORKERS=N sets the number.
ENTRYPOINT ["notifierd", "run", "--config", "/config", "--http", "0.0.0.0:9464"]
