"""The asynchronous (OAuth) flow of draft §8.4 as an optional sub-app.

Add ``"django_domainconnect.oauth"`` to ``INSTALLED_APPS`` (after ``oauth2_provider`` and
``django_domainconnect``) to offer it; leave it out and the app is a sync-only DNS Provider.
"""
