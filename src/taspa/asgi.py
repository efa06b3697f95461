import os

from django.conf import settings
from django.core.asgi import get_asgi_application

from taspa.concurrency import BoundedViews

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taspa.settings")
application = BoundedViews(
    get_asgi_application(),
    slots=settings.TASPA_WEB_CONCURRENCY,
    wait_s=settings.TASPA_WEB_QUEUE_SECONDS,
    # An overloaded server is still alive and says so: probes and scrapes never queue.
    exempt=frozenset({"/healthz", "/readyz", "/metrics"}),
)
