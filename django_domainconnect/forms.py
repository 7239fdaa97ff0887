"""Forms of the consent pages. Each carries only a choice and an opaque reference: the plan itself stays
server-side, so nothing a user (or an attacker) posts can change what gets written."""

from __future__ import annotations

from django import forms


class ConsentForm(forms.Form):
    """The answer to a sync consent page: ``action`` is ``approve`` (Connect) or ``cancel``."""

    nonce = forms.CharField(max_length=128, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[("approve", "Connect"), ("cancel", "Cancel")])


class DisconnectForm(forms.Form):
    """Confirmation of a Disconnect (revert) on the connected-services page."""

    confirm = forms.ChoiceField(choices=[("yes", "Disconnect")], widget=forms.HiddenInput)
