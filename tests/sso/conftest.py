import pytest

from tests.sso.dns_stub import StubDns


@pytest.fixture
def stub_dns(settings):
    """A DNS server of the test's own, which the app's resolver asks (SSO_DNS_NAMESERVERS)."""
    with StubDns() as server:
        settings.SSO_DNS_NAMESERVERS = [server.address]
        yield server
