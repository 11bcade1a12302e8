from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from learning.views import LoginView, PasswordResetView, healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    # Django's own, limited per address; the rest of the reset comes from auth.urls below.
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("lti/", include("learning.lti.urls")),
    path("", include("learning.urls")),
]

# A database too busy to take a write in time, met outside a view: 503 "not saved".
handler500 = "learning.busy.server_error"


def bench_ceiling(request: HttpRequest) -> HttpResponse:
    """No database, no template: what the same server and middleware do at best."""
    return HttpResponse("ok\n", content_type="text/plain")


if settings.BENCHMARK:
    urlpatterns.append(path("bench/ceiling", bench_ceiling))
