"""django-domainconnect: a Domain Connect DNS Provider as a reusable Django app."""

__version__ = "0.1.0.dev0"
