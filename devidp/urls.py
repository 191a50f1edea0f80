"""The development IdP's URLs. auzlearn/urls.py includes them only with DEBUG on, so that in
production they do not exist at all, not even as a route that refuses."""

from django.urls import path

from devidp import views
from devidp.connections import METADATA_PATH, PREFIX, SIGN_IN_PATH, SSO_PATH

app_name = "devidp"

urlpatterns = [
    path(PREFIX, views.dashboard, name="dashboard"),
    path(METADATA_PATH, views.metadata, name="metadata"),
    path(SSO_PATH, views.single_sign_on, name="sso"),
    path(SIGN_IN_PATH, views.sign_in, name="sign-in"),
]
