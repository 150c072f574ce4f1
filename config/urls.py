"""URL routes."""

from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

# Staff sign in to the admin with their second factor too, as on the pages.
admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("web.urls")),
]

handler404 = "api.errors.not_found"
