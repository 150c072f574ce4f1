"""URL routes."""

from django.contrib import admin
from django.urls import include, path

from operations.health import healthz, readyz
from operations.views import metrics
from web.admin_site import FundflowAdminSite

# Staff sign in to the admin on the web sign-in page, with their second factor and its
# lockout; the admin's views demand the verified one-time code too (OTPAdminSite).
admin.site.__class__ = FundflowAdminSite

urlpatterns = [
    # Probes for load balancers (usually answered earlier, by HealthProbeMiddleware).
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("metrics", metrics, name="metrics"),
    path("", include("web.urls")),
]

handler400 = "api.errors.bad_request"
handler404 = "api.errors.not_found"
