"""WSGI entry point of the baseline."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plain_django.settings")
application = get_wsgi_application()
