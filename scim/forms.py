"""The forms of the SCIM tab."""

from django import forms

from accounts.custom_attributes import MAX_DESCRIPTION_LENGTH
from accounts.models import AttributeType


class CustomAttributeForm(forms.Form):
    """Add an attribute of the organisation's own. The name's grammar, the type and a name
    already taken are checked by ``accounts.services.custom_attribute_add``, whose words are
    shown next to the field."""

    name = forms.CharField(
        label="Name",
        widget=forms.TextInput(
            attrs={
                "spellcheck": "false",
                "autocapitalize": "none",
                "autocomplete": "off",
                "placeholder": "costCentre",
            }
        ),
    )
    type = forms.ChoiceField(
        label="Type",
        choices=[(value, f"{label} ({value})") for value, label in AttributeType.choices],
    )
    description = forms.CharField(
        label="Description (optional)",
        required=False,
        max_length=MAX_DESCRIPTION_LENGTH,
    )
