from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from taspa.api.api import api

urlpatterns = [
    path("", include("taspa.ops.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("access/", include("taspa.access.urls")),
    path("", include("taspa.web.urls")),
]

# Unhandled errors: 503 with Retry-After while the database is down, else the court's 500 page
# (the JSON error shape under /api/).
handler500 = "taspa.web.views.errors.server_error"
