"""Pages of the sync flow: the consent answer and the connected-services pages.

Included by ``django_domainconnect.urls`` (namespace ``domainconnect``); the apply link itself is the
shared ``domainconnect:apply`` route, which sends GET requests to ``views.sync.sync_apply``.
"""

from __future__ import annotations

from django.urls import path

from .connected import connected, disconnect
from .consent import consent

urlpatterns = [
    path("domainconnect/consent", consent, name="consent"),
    path("domainconnect/connected/<str:domain>/", connected, name="connected"),
    path("domainconnect/connected/<str:domain>/disconnect/<int:pk>/", disconnect, name="disconnect"),
]
