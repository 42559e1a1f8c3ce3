from collections.abc import Callable
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

from sandbox.errors import NotAllowed

# Strict: scripts and styles only from our own origin, nothing inline, no eval.
# htmx is configured (base.html meta tag) not to inject its indicator <style>.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


FORM_TARGETS_ATTRIBUTE = "csp_form_action_origins"


def allow_form_target(request: HttpRequest, url: str) -> None:
    """Let a form on this page lead to ``url``'s origin. Browsers apply form-action to the
    redirects after a form is sent too, so the single sign-on button (a form to Sandpit
    that redirects to the organisation's identity provider) needs its provider's origin."""
    parts = urlsplit(url)
    if parts.scheme in {"http", "https"} and parts.netloc:
        origins: set[str] = getattr(request, FORM_TARGETS_ATTRIBUTE, set())
        origins.add(f"{parts.scheme}://{parts.netloc}")
        setattr(request, FORM_TARGETS_ATTRIBUTE, origins)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = CONTENT_SECURITY_POLICY
        origins = getattr(request, FORM_TARGETS_ATTRIBUTE, None)
        if origins:
            policy = policy.replace(
                "form-action 'self'", " ".join(["form-action 'self'", *sorted(origins)])
            )
        response.headers.setdefault("Content-Security-Policy", policy)
        return response


# Strict: no page of Sandpit uses a camera, microphone, location, payments or any other
# powerful feature, so none may, not even our own scripts or anything injected into them.
# Only passkeys (WebAuthn) are kept for our own origin, for signing in with one later.
# Every feature named is one Chromium recognises (tests/sandbox/test_middleware.py
# checks): browsers warn about unknown names, and interest-cohort is long gone
# (browsing-topics replaced it).
PERMISSIONS_POLICY = ", ".join(
    [
        *(
            f"{feature}=()"
            for feature in [
                "accelerometer",
                "autoplay",
                "browsing-topics",
                "camera",
                "clipboard-read",
                "clipboard-write",
                "compute-pressure",
                "digital-credentials-create",
                "digital-credentials-get",
                "display-capture",
                "encrypted-media",
                "fullscreen",
                "gamepad",
                "geolocation",
                "gyroscope",
                "hid",
                "identity-credentials-get",
                "idle-detection",
                "local-fonts",
                "magnetometer",
                "microphone",
                "midi",
                "otp-credentials",
                "payment",
                "picture-in-picture",
                "screen-wake-lock",
                "serial",
                "storage-access",
                "usb",
                "window-management",
                "xr-spatial-tracking",
            ]
        ),
        "publickey-credentials-create=(self)",
        "publickey-credentials-get=(self)",
    ]
)


class PermissionsPolicyMiddleware:
    """Before WhiteNoise, like the CSP, so static files carry the header too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class VaryOnHtmxMiddleware:
    """One URL serves a page and its htmx fragment, so every answer varies on HX-Request:
    otherwise the Back button can show the browser's cached fragment, bare, as the page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response


class FriendlyMethodNotAllowedMiddleware:
    """A state change opened by address (a bookmark, a refreshed page after a refused
    form) gets Django's 405 with an empty body: show a page that says what happened."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and request.method == "GET":
            response.content = render_to_string("405.html", request=request).encode()
            response["Content-Type"] = "text/html; charset=utf-8"
        return response


class NotAllowedMiddleware:
    """A role check that refuses (sandbox.access raises NotAllowed) answers 403 with its
    message, wherever in a view it was raised: views need no handling of their own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, NotAllowed):
            raise PermissionDenied(exception.message) from exception


class PrivatePagesMiddleware:
    """Pages shown to a signed-in person are kept by no cache, the browser's included: on a
    shared ward computer, Back after sign-out must not show the last person's posts."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "private, no-store"
        return response
