"""The forms of the SAML tab, and reading IdP metadata from what an admin gives us.

``load_metadata`` is shared by the upload form and ``manage.py saml_configure``: both accept and
refuse exactly the same input, with the same words. It saves nothing; the caller does, and only
once the metadata has been read and parsed in full.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from sso.fetch import FetchError, fetch_metadata
from sso.mapping import Target, profile_targets
from sso.metadata import MAX_METADATA_BYTES, IdpMetadata, MetadataError, parse_metadata
from sso.metadata_advice import plain_message

Fetch = Callable[[str], bytes]

ONE_SOURCE = "Give exactly one of these: a metadata XML file, the pasted XML or a metadata URL."
TOO_LARGE = (
    f"The file is larger than {MAX_METADATA_BYTES // 1_000_000} MB, far more than an identity "
    "provider's metadata needs; upload the metadata of your identity provider alone."
)
# The form's fields, which the messages below are shown next to.
FILE, PASTE, URL = "metadata_file", "metadata_xml", "metadata_url"


class MetadataRefused(Exception):
    """What an admin gave is not usable metadata; ``field`` names the input at fault (None when
    it is about the combination)."""

    def __init__(self, field: str | None, message: str, code: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code  # the parser's or fetcher's refusal code; "" for the form's own


@dataclass(frozen=True)
class Upload:
    """A file to read metadata from: its size as stored, and how to read it."""

    size: int
    read: Callable[[int], bytes]


@dataclass(frozen=True)
class LoadedMetadata:
    metadata: IdpMetadata
    xml: str  # as stored on the connection
    url: str  # "" unless the metadata came from a URL


def load_metadata(
    *,
    upload: Upload | None = None,
    pasted: str = "",
    url: str = "",
    fetch: Fetch = fetch_metadata,
) -> LoadedMetadata:
    """Read, fetch and parse the one source given, or raise MetadataRefused saying what is
    wrong."""
    pasted, url = pasted.strip(), url.strip()
    if [upload is not None, bool(pasted), bool(url)].count(True) != 1:
        raise MetadataRefused(None, ONE_SOURCE)
    if upload is not None:
        field, raw = FILE, _read(upload)
    elif pasted:
        field, raw = PASTE, pasted.encode("utf-8")
    else:
        field = URL
        try:
            raw = fetch(url)
        except FetchError as error:
            raise MetadataRefused(field, error.message, error.code) from None
    try:
        metadata = parse_metadata(raw)
    except MetadataError as error:
        raise MetadataRefused(field, error.message, error.code) from None
    return LoadedMetadata(metadata=metadata, xml=_text(raw), url=url)


def _read(upload: Upload) -> bytes:
    # The size is checked before reading, and the read is capped in case the size was wrong.
    if upload.size > MAX_METADATA_BYTES:
        raise MetadataRefused(FILE, TOO_LARGE, "too_large")
    raw = upload.read(MAX_METADATA_BYTES + 1)
    if len(raw) > MAX_METADATA_BYTES:
        raise MetadataRefused(FILE, TOO_LARGE, "too_large")
    return raw


def _text(raw: bytes) -> str:
    """The metadata as text for storing. The parser has accepted it, so it is XML in UTF-8 or
    (with a byte order mark) UTF-16, as IdPs and Windows editors write it."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    return raw.decode("utf-8-sig", errors="replace")


class MetadataForm(forms.Form):
    """Upload Metadata XML: a file, pasted XML or a metadata URL (exactly one)."""

    # An empty file is let through to the parser, which says "The metadata is empty."
    metadata_file = forms.FileField(
        required=False, allow_empty_file=True, label="Metadata XML file"
    )
    metadata_xml = forms.CharField(
        required=False,
        label="Or paste the metadata XML",
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
    )
    # A plain text field, not a URLField: the fetcher's own messages (https only, which hosts
    # are refused) are clearer than "Enter a valid URL", and the command gets the same ones.
    metadata_url = forms.CharField(
        required=False,
        max_length=2048,
        label="Or its metadata URL",
        widget=forms.URLInput(attrs={"spellcheck": "false", "placeholder": "https://"}),
    )

    def __init__(
        self, *args: Any, fetch: Fetch = fetch_metadata, provider: str = "saml", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fetch = fetch
        self.provider = provider  # whose screens the advice of a refusal names
        self.loaded: LoadedMetadata | None = None

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        uploaded = self.cleaned_data.get(FILE)
        upload = Upload(size=uploaded.size or 0, read=uploaded.read) if uploaded else None
        try:
            self.loaded = load_metadata(
                upload=upload,
                pasted=self.cleaned_data.get(PASTE, ""),
                url=self.cleaned_data.get(URL, ""),
                fetch=self.fetch,
            )
        except MetadataRefused as refused:
            message = refused.message
            if refused.code:
                # Plain words and where to get the right file first, the parser's detail after.
                message = plain_message(refused.code, self.provider, refused.message)
            self.add_error(refused.field, message)
        return cleaned


class SwitchesForm(forms.Form):
    """The switches of the SAML tab. Unticked boxes are not sent, so every field is optional."""

    enabled = forms.BooleanField(required=False)
    allow_idp_initiated = forms.BooleanField(required=False)
    jit_provisioning = forms.BooleanField(required=False)
    sso_required = forms.BooleanField(required=False)


class DomainForm(forms.Form):
    """Add a sign-in domain. Checked and normalised by ``sso.services.domain_add``, whose words
    are shown next to the field."""

    domain = forms.CharField(
        max_length=300,
        label="Domain",
        widget=forms.TextInput(
            attrs={"spellcheck": "false", "autocapitalize": "none", "placeholder": "acme.com"}
        ),
    )


class AttributeMappingForm(forms.Form):
    """Map an attribute statement to a profile field or one of the organisation's own
    attributes. Checked by ``sso.services.connection_map_attribute``, whose words are shown next
    to the field."""

    attribute = forms.CharField(
        label="Attribute name",
        widget=forms.TextInput(
            attrs={"spellcheck": "false", "autocapitalize": "none", "autocomplete": "off"}
        ),
    )
    target = forms.ChoiceField(label="Sets")

    def __init__(self, *args: Any, custom: list[Target], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        profile = [(target.key, target.label) for target in profile_targets()]
        own = [(target.key, target.label) for target in custom]
        # No field chosen until the admin chooses one: a mapping set by accident would
        # overwrite people's profiles at their next sign-in.
        choices: list[tuple[str, Any]] = [("", "Choose…"), ("Profile", profile)]
        if own:
            choices.append(("Your own attributes", own))
        self.fields["target"].choices = choices  # type: ignore[attr-defined]
