"""Pages of the sync flow: the consent answer and the connected-services pages.

Included by ``django_domainconnect.urls`` (namespace ``domainconnect``); the apply link itself is the
shared ``domainconnect:apply`` route, which sends GET requests to ``views.sync.sync_apply``. Login sends
the user back to ``sync_resume``, which re-runs the link with the raw query kept in the session.
"""

from __future__ import annotations

from django.urls import path

from .connected import connected, disconnect
from .consent import consent
from .sync import sync_resume

urlpatterns = [
    path("domainconnect/consent", consent, name="consent"),
    path("domainconnect/resume/<str:token>", sync_resume, name="sync_resume"),  # back from login
    path("domainconnect/connected/<str:domain>/", connected, name="connected"),
    path("domainconnect/connected/<str:domain>/disconnect/<int:pk>/", disconnect, name="disconnect"),
]
