"""The `[ocpp]` section: how to reach the central system and what to tell it about us.

Its own module because it is the section both protocol versions read, and the one whose
values (URL, identity, TLS files) are checked against what a CSMS will accept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from attrs import field, frozen

from controller.config_base import Check, Range, SecretStr
from controller.ocpp.feature_profiles import default_profiles, parse_profiles


def _profiles(v: list[str]) -> list[str]:
    return [p.value for p in parse_profiles(v)]  # its ValueError names what is allowed


def _ws_url(v: str) -> str:
    if not v.startswith(("ws://", "wss://")):
        raise ValueError("must start with ws:// or wss://")
    return v.rstrip("/")


def _id_chars(v: str) -> str:
    if "/" in v or any(c.isspace() for c in v):
        raise ValueError("must not contain '/' or white space (it is a URL path segment)")
    return v


@frozen(kw_only=True)
class OcppSection:
    version: Literal["1.6", "2.0.1"] = "1.6"  # the protocol, and so the websocket subprotocol
    url: Annotated[str, Check(_ws_url)] = "ws://127.0.0.1:9000/ocpp"
    charge_point_id: Annotated[str, Range(min_length=1, max_length=48), Check(_id_chars)] = "CP001"
    password: SecretStr | None = None
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    vendor: Annotated[str, Range(min_length=1, max_length=20)] = "chargectl"
    model: Annotated[str, Range(min_length=1, max_length=20)] = "chargectl-pi"
    serial_number: Annotated[str, Range(max_length=25)] | None = None
    free_vend_id_tag: Annotated[str, Range(min_length=1, max_length=20)] | None = None
    resume_transaction_after_power_loss: bool = False
    call_timeout_s: Annotated[float, Range(gt=0, le=300)] = 30.0
    max_reconnect_interval_s: Annotated[float, Range(ge=1, le=3600)] = 60.0
    start_grace_s: Annotated[float, Range(ge=0, le=3600)] = 60.0
    # OCPP feature profiles the CSMS may use; Core is always on
    feature_profiles: Annotated[list[str], Check(_profiles)] = field(
        factory=lambda: [p.value for p in default_profiles()]
    )

    def __attrs_post_init__(self) -> None:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together (security profile 3)")
