# Switchboard gateway: slim, non-root, stateless (scale it out as replicas).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md providers.yaml capabilities.yaml ./
COPY specs ./specs
COPY engine ./engine
COPY emulator ./emulator
RUN pip wheel --no-cache-dir --wheel-dir /wheels . uvloop httptools

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /app switchboard
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER switchboard
WORKDIR /app
EXPOSE 8787
# Config and secrets come from the environment (SWITCHBOARD_API_KEYS, provider keys) or a
# mounted file: docker run -v ./gateway.yaml:/app/gateway.yaml ... --config /app/gateway.yaml
ENTRYPOINT ["switchboard", "serve", "--host", "0.0.0.0", "--port", "8787"]
CMD ["--workers", "2"]
