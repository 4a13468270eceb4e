# buddyscope dashboard.  Build: docker build -t buddyscope .
#                        Run:   docker run --rm -p 127.0.0.1:8000:8000 buddyscope
# The install line is the README's/Makefile's (`.venv/bin/python -m pip install -e .`),
# with --no-cache-dir added; tests/web/test_dockerfile.py keeps them in step.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH="/app/.venv/bin:${PATH}"

RUN groupadd --gid 10001 buddy \
    && useradd --uid 10001 --gid buddy --create-home --shell /usr/sbin/nologin buddy

WORKDIR /app
COPY pyproject.toml README.md ./
COPY allocator_model ./allocator_model
COPY backend ./backend
COPY frontend ./frontend
RUN python -m venv .venv \
    && .venv/bin/python -m pip install --no-cache-dir -e .

# Numeric, so the runtime can tell it is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["buddyscope", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-open"]
