"""Which site URLs appgov accepts: an API token is only ever sent to an Atlassian Cloud site or to a
host the operator allowed (reliability BI-02)."""

import pytest

from appgov.connectors.atlassian.sites import SiteURLError, normalize_site_url


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("https://acme.atlassian.net", "https://acme.atlassian.net"),
        ("acme.atlassian.net", "https://acme.atlassian.net"),
        ("  https://ACME.atlassian.net/  ", "https://acme.atlassian.net"),
        ("https://acme-labs.atlassian.net:443", "https://acme-labs.atlassian.net"),
    ],
)
def test_atlassian_sites_are_accepted_in_canonical_form(raw: str, canonical: str) -> None:
    assert normalize_site_url(raw) == canonical


@pytest.mark.parametrize(
    "raw",
    [
        "https://127.0.0.1",
        "http://localhost:8080",
        "https://x.atlassian.net.evil.com",
        "https://evil.com/acme.atlassian.net",
        "https://evil.com#.atlassian.net",
        "https://user:pass@acme.atlassian.net",
        "http://acme.atlassian.net",
        "https://acme.atlassian.net/wiki",
        "https://acme.atlassian.net?next=https://evil.com",
        "https://acme.atlassian.net:8443",
        "https://-acme.atlassian.net",
        "https://xn--80ak6aa92e.atlassian.net.evil",
        "https://169.254.169.254/latest/meta-data",
        "file:///etc/passwd",
        "https://acme.atlassian.net:notaport",
        "",
    ],
)
def test_anything_else_is_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(SiteURLError) as refused:
        normalize_site_url(raw)
    assert str(refused.value)


def test_an_operator_allowed_host_may_be_plain_http_with_a_path() -> None:
    allowed = ("127.0.0.1:8800",)
    assert (
        normalize_site_url("http://127.0.0.1:8800/sites/acme/", allowed) == "http://127.0.0.1:8800/sites/acme"
    )
    with pytest.raises(SiteURLError):
        normalize_site_url("http://127.0.0.1:8801/sites/acme", allowed)
