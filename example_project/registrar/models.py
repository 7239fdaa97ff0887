"""The registrar's own zone storage. Domain Connect never touches it directly: only through
``registrar.dc_backend.RegistrarBackend``."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from django_domainconnect.engine.errors import HostError
from django_domainconnect.engine.names import normalize_domain


def reverse_labels(name: str) -> str:
    """``www.example.com.`` → ``com.example.www.``: a subtree becomes a prefix, so it is an indexed LIKE."""
    labels = [label for label in name.rstrip(".").split(".") if label]
    return ".".join(reversed(labels)) + "."


class Domain(models.Model):
    """A zone this registrar serves. ``name`` is the apex in lower-case A-labels without a trailing dot."""

    name = models.CharField(max_length=253, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="domains")
    active = models.BooleanField(default=True)
    verified = models.BooleanField(default=False, help_text="The customer proved control of the domain.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        # Always stored as lower-case A-labels (bücher.example → xn--bcher-kva.example): the form
        # Domain Connect looks zones up by.
        self.name = normalize_domain(self.name)
        super().save(*args, **kwargs)

    @property
    def origin(self) -> str:
        return self.name + "."

    def clean(self) -> None:
        try:
            self.name = normalize_domain(self.name)
        except HostError as exc:
            raise ValidationError({"name": exc.message})


class Record(models.Model):
    """One resource record. ``name`` is the absolute owner with its trailing dot (``www.example.com.``);
    ``data`` is presentation format; ``rname`` is ``name`` with its labels reversed (for subtree reads)."""

    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="records")
    name = models.CharField(max_length=255)
    rname = models.CharField(max_length=255, db_index=True, editable=False)
    type = models.CharField(max_length=16)
    ttl = models.PositiveIntegerField(default=3600)
    data = models.TextField()

    class Meta:
        ordering = ["rname", "type", "data"]
        indexes = [models.Index(fields=["domain", "name"], name="registrar_record_dom_name")]

    def __str__(self) -> str:
        return f"{self.name} {self.ttl} IN {self.type} {self.data}"

    def save(self, *args, **kwargs) -> None:
        self.rname = reverse_labels(self.name)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.name = self.name.lower().rstrip(".") + "."
        try:
            origin = self.domain.origin
        except Domain.DoesNotExist:
            return  # the form reports the missing domain itself
        if self.name != origin and not self.name.endswith("." + origin):
            raise ValidationError({"name": f"must be {origin} or a name below it (absolute, with the trailing dot)"})

    @property
    def relative_name(self) -> str:
        """``www`` for ``www.example.com.``, ``@`` at the apex (for the panel)."""
        origin = self.domain.origin
        if self.name == origin:
            return "@"
        return self.name[: -len(origin) - 1] if self.name.endswith("." + origin) else self.name
