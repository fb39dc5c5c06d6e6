"""``/healthz`` and ``/readyz`` for load balancers, answered before any other middleware.

First in the chain, so a probe works whatever it sends: by address (no allowed-host check), over plain HTTP
(no HTTPS redirect), without cookies (no session, no login). Neither body names anything but the checks.
"""

from http import HTTPStatus

from django.http import JsonResponse

from . import probes

LIVENESS_PATH, READINESS_PATH = "/healthz", "/readyz"


class HealthMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or request.path not in (LIVENESS_PATH, READINESS_PATH):
            return self.get_response(request)
        if request.path == LIVENESS_PATH:
            response = JsonResponse({"status": "up"})  # the process answers; nothing else is asked
        else:
            readiness = probes.readiness()
            status = HTTPStatus.OK if readiness.ready else HTTPStatus.SERVICE_UNAVAILABLE
            body = {"status": "ready" if readiness.ready else "not ready", "checks": readiness.checks}
            response = JsonResponse(body, status=status)
        response["Cache-Control"] = "no-store"
        return response
