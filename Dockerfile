# One image for web, worker, beat and the X API double (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY sandbox sandbox
COPY coaching coaching
RUN pip install .

COPY . .
# var/media exists in the image so its volume starts owned by sandpit.
RUN useradd --create-home sandpit && mkdir -p var/media && chown -R sandpit var
USER sandpit

EXPOSE 8000
CMD ["gunicorn", "sandbox.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
