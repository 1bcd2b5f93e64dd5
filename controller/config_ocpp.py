"""The `[ocpp]` section: how to reach the central system and what to tell it about us.

Its own module because it is the section both protocol versions read, and the one whose
values (URL, identity, TLS files) are checked against what a CSMS will accept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from controller.config_base import Section as _Section
from controller.ocpp.feature_profiles import default_profiles, parse_profiles


class OcppSection(_Section):
    version: Literal["1.6", "2.0.1"] = "1.6"  # the protocol, and so the websocket subprotocol
    url: str = "ws://127.0.0.1:9000/ocpp"
    charge_point_id: str = Field("CP001", min_length=1, max_length=48)
    password: SecretStr | None = None
    ca_file: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    vendor: str = Field("chargectl", min_length=1, max_length=20)
    model: str = Field("chargectl-pi", min_length=1, max_length=20)
    serial_number: str | None = Field(None, max_length=25)
    free_vend_id_tag: str | None = Field(None, min_length=1, max_length=20)
    resume_transaction_after_power_loss: bool = False
    call_timeout_s: float = Field(30.0, gt=0, le=300)
    max_reconnect_interval_s: float = Field(60.0, ge=1, le=3600)
    start_grace_s: float = Field(60.0, ge=0, le=3600)
    feature_profiles: list[str] = Field(
        default_factory=lambda: [p.value for p in default_profiles()],
        description="OCPP feature profiles the CSMS may use; Core is always on",
    )

    @field_validator("feature_profiles")
    @classmethod
    def _profiles(cls, v: list[str]) -> list[str]:
        return [p.value for p in parse_profiles(v)]  # its ValueError names what is allowed

    @field_validator("url")
    @classmethod
    def _ws_url(cls, v: str) -> str:
        if not v.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return v.rstrip("/")

    @field_validator("charge_point_id")
    @classmethod
    def _id_chars(cls, v: str) -> str:
        if "/" in v or any(c.isspace() for c in v):
            raise ValueError("must not contain '/' or white space (it is a URL path segment)")
        return v

    @model_validator(mode="after")
    def _client_cert_pair(self) -> OcppSection:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together (security profile 3)")
        return self
