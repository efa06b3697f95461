from django.urls import path

from taspa.access import views

app_name = "access"
urlpatterns = [path("petitions/", views.petitions, name="petitions")]
