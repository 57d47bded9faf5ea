"""The security headers every response carries: pages, errors, static files, the bad-Host 400."""

from __future__ import annotations

from collections.abc import Iterable


def assert_security_headers(headers: Iterable[tuple[str, str]]) -> None:
    found = {name.lower(): value for name, value in headers}
    csp = found["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert found["x-frame-options"] == "DENY"
    assert found["x-content-type-options"] == "nosniff"
    assert found["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert found["cross-origin-opener-policy"] == "same-origin"
    assert found["cross-origin-resource-policy"] == "same-origin"
    policy = found["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy
