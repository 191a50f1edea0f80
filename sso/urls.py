from django.urls import path

from sso import saml_views, views

app_name = "sso"

SAML = "sso/saml/<str:connection_id>/"

urlpatterns = [
    path("sso/", views.sign_in, name="sign-in"),
    path(SAML + "metadata/", saml_views.metadata, name="metadata"),
    path(SAML + "login/", saml_views.login_start, name="login"),
    path(SAML + "acs/", saml_views.acs, name="acs"),
    path(SAML + "logout/", saml_views.logout_view, name="logout"),
]
