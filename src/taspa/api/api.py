"""The HTTP API at /api/v1: authentication, the contract's error shape, and each app's router."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, RawPostDataException
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth

from taspa.api.actions import user_for_token
from taspa.errors import DomainError, InvalidInput, translated


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class NotJson(ValueError):
    """A request body sent as something other than ``application/json``."""


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _refuse_nul(data: Any) -> Any:
    """No text may hold U+0000: PostgreSQL can store it neither in text nor in JSON."""
    if _has_nul(data):
        raise InvalidInput("nul_character", _("Text may not contain the NUL character (U+0000)."))
    return data


class JsonBody(Parser):
    """JSON bodies are taken only when sent as JSON: anything else is refused (415), never
    guessed at (multipart uploads and raw chunks do not come through here). Bodies, queries
    and forms with a NUL character are refused (422)."""

    def parse_body(self, request: HttpRequest) -> Any:
        if request.content_type != "application/json":
            raise NotJson(request.content_type or "no content type")
        return _refuse_nul(super().parse_body(request))

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> Any:
        return _refuse_nul(super().parse_querydict(data, list_fields, request))


api = NinjaAPI(
    title="Taspa",
    version="1",
    description="Court hearing recording and custody (CONTRACT.md).",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
    parser=JsonBody(),
)


def error_response(request: HttpRequest, status: int, code: str, detail: str, **extra: Any):
    return api.create_response(request, {"error": code, "detail": detail, **extra}, status=status)


def _send_json(sent: str) -> str:
    return translated(_("Send the body as application/json, not %(type)s."), {"type": sent})


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.status, exc.code, exc.detail)


def _where(error: dict[str, Any]) -> str:
    return ".".join(str(part) for part in error.get("loc", ()) if part not in ("body", "payload"))


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # The validator's own words (pydantic's, English) stay in ``errors``, for the programmer;
    # the detail names the fields in the caller's language.
    fields = ", ".join(dict.fromkeys(w for w in (_where(e) for e in exc.errors) if w))
    detail = (
        translated(_("These fields do not fit: %(fields)s."), {"fields": fields})
        if fields
        else translated(_("Invalid input."))
    )
    return error_response(request, 422, "invalid_input", detail, errors=exc.errors)


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    detail = translated(
        _("The request body is larger than the server takes (%(limit)s bytes)."), {"limit": limit}
    )
    return error_response(request, 413, "request_too_large", detail)


@api.exception_handler(RawPostDataException)
def on_form_body(request: HttpRequest, exc: RawPostDataException) -> HttpResponse:
    # A form body (multipart) that the web session's CSRF check has already read as a form:
    # the API takes JSON only, so this is the same refusal as any other non-JSON body.
    detail = _send_json(request.content_type or "multipart/form-data")
    return error_response(request, 415, "unsupported_media_type", detail)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = translated(_("A valid bearer token is required."))
    return error_response(request, 401, "unauthorized", detail)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # django-ninja reports any body it cannot parse as 400; say which problem it was.
    if isinstance(exc.__cause__, DomainError):
        return on_domain_error(request, exc.__cause__)
    if isinstance(exc.__cause__, NotJson):
        detail = _send_json(str(exc.__cause__))
        return error_response(request, 415, "unsupported_media_type", detail)
    if isinstance(exc.__cause__, ValueError):
        detail = translated(_("The body is not valid JSON."))
        return error_response(request, 400, "invalid_json", detail)
    code = {400: "bad_request", 403: "forbidden", 404: "not_found"}.get(exc.status_code, "error")
    return error_response(request, exc.status_code, code, str(exc))


def _register_routers() -> None:
    from taspa.access.api import router as access_router
    from taspa.api.users import router as users_router
    from taspa.courts.api import router as courts_router
    from taspa.custody.api import router as custody_router
    from taspa.evidence.api import router as evidence_router
    from taspa.incidents.api import router as incidents_router
    from taspa.recorder.api import router as recorder_router
    from taspa.replication.api import router as replication_router
    from taspa.retention.api import router as retention_router
    from taspa.sealing.api import router as sealing_router
    from taspa.storage.api import router as storage_router

    routers = (
        courts_router,
        users_router,
        recorder_router,
        sealing_router,
        storage_router,
        incidents_router,
        custody_router,
        replication_router,
        retention_router,
        access_router,
        evidence_router,
    )
    for router in routers:
        api.add_router("", router)


_register_routers()
