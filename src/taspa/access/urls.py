from django.urls import path

from taspa.access import views

app_name = "access"
urlpatterns = [
    path("", views.index, name="index"),
    path("petitions/", views.petitions, name="petitions"),
    path("petitions/<int:petition_id>/fulfil", views.fulfil, name="fulfil"),
    path("petitions/<int:petition_id>/refuse", views.refuse, name="refuse"),
    path("petitions/<int:petition_id>/review", views.review_step, name="review_step"),
    path("petitions/<int:petition_id>/medium", views.medium_write, name="medium_write"),
    path("portal/", views.portal, name="portal"),
    path("portal/<int:petition_id>/receipt", views.receipt, name="receipt"),
    path("portal/copies/<int:copy_id>/play", views.copy_play, name="copy_play"),
    path("portal/copies/<int:copy_id>/files/<str:name>", views.copy_file, name="copy_file"),
]
