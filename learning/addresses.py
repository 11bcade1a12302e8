"""The client's address, for locking out repeated failed log-ins.

Behind TLS proxies every request arrives from a proxy, so the client's address is read
from X-Forwarded-For, counting from the right as many hops as there are trusted proxies
(DJANGO_TRUSTED_PROXY_COUNT). Hops further left were written by the client and are not
trusted. With no proxy configured, the connection's own address is used.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if proxies and len(hops) >= proxies:
        return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")
