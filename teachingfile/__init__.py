"""The Django project: settings for each environment (``settings/``), the root URLs, logging and WSGI/ASGI."""
