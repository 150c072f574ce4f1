"""The admin site behind the one web sign-in (password, one-time code and lockout).

Django's own admin login would authenticate by itself: it would neither ask django-axes
first nor count failed one-time codes, so a locked-out user name could still be tried there
(a right password answers differently from a wrong one). The admin therefore has no login
form of its own: it sends people to the web sign-in, and its views still demand a verified
one-time code (``OTPAdminSite``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp.admin import OTPAdminSite


class FundflowAdminSite(OTPAdminSite):
    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
            next_url = reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, reverse("web:login"))
