"""Project-wide middleware."""

from shop import health


class HealthCheckMiddleware:
    """Answer /healthz and /readyz before host validation and sessions.

    Load balancers and orchestrators call the probes by IP address, which is not in
    ALLOWED_HOSTS, and the probes must not create sessions or depend on other middleware.
    """

    probes = {"/healthz": health.healthz, "/readyz": health.readyz}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        probe = self.probes.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)
