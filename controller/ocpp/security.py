"""Which OCPP security profile the configured connection can honour.

The 1.6 Security Whitepaper's profiles: 1 = Basic auth over a plain websocket, 2 = Basic auth
over TLS, 3 = TLS with a client certificate. Raising `SecurityProfile` to a level the
configured URL or credentials cannot meet is Rejected rather than stored: a stored 2 with a
`ws://` URL would leave the charger sending its password in clear while the CSMS believes
otherwise. And if the configuration file is later changed under an accepted profile, the
charger refuses to connect rather than fall back (the whitepaper forbids a downgrade).
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.ocpp.settings import OcppSettings


@dataclass(frozen=True, slots=True)
class Transport:
    """What the configuration file provides for the connection to the CSMS."""

    url: str
    password_configured: bool
    client_certificate: bool

    @classmethod
    def of(cls, settings: OcppSettings) -> Transport:
        s = settings
        return cls(s.url, bool(s.password), bool(s.client_cert and s.client_key))

    @property
    def tls(self) -> bool:
        return self.url.lower().startswith("wss://")


def profile_refusal(profile: int, transport: Transport, authorization_key_set: bool) -> str | None:
    """Why `profile` cannot be honoured, or None if it can."""
    if profile >= 2 and not transport.tls:
        return f"security profile {profile} needs a wss:// URL; the charger uses {transport.url}"
    if profile == 3 and not transport.client_certificate:
        return "security profile 3 needs a client certificate and key in the configuration"
    if profile in (1, 2) and not (authorization_key_set or transport.password_configured):
        return f"security profile {profile} needs an AuthorizationKey or a configured password"
    return None


def connect_refusal(profile: int, transport: Transport) -> str | None:
    """Why the charger must not connect at all: an accepted TLS profile and a plain URL."""
    if profile >= 2 and not transport.tls:
        return (
            f"SecurityProfile is {profile} but the URL is {transport.url}: "
            "refusing to connect in clear; configure a wss:// URL"
        )
    return None
