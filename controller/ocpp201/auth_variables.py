"""The device model's authorization variables (AuthCtrlr, AuthCacheCtrlr, LocalAuthListCtrlr):
names and defaults, merged into `variables.DEFINITIONS`. Plain data, so that `variables` and
`authorization` both read it without knowing each other.

The defaults are 1.6's (`controller.ocpp.auth_keys`): a known, valid token starts offline,
an unknown one does not, the cache and the list are on, and a local hit online still asks
the CSMS until LocalPreAuthorize is set.
"""

from __future__ import annotations

Name = tuple[str, str]

LOCAL_PRE_AUTHORIZE: Name = ("AuthCtrlr", "LocalPreAuthorize")
LOCAL_AUTHORIZE_OFFLINE: Name = ("AuthCtrlr", "LocalAuthorizeOffline")
AUTHORIZE_REMOTE_START: Name = ("AuthCtrlr", "AuthorizeRemoteStart")
AUTH_CACHE_ENABLED: Name = ("AuthCacheCtrlr", "Enabled")
AUTH_CACHE_LIFETIME: Name = ("AuthCacheCtrlr", "LifeTime")
LOCAL_LIST_ENABLED: Name = ("LocalAuthListCtrlr", "Enabled")
LOCAL_LIST_ITEMS: Name = ("LocalAuthListCtrlr", "ItemsPerMessage")

# (name, default, data type, writable); a list longer than ItemsPerMessage is Failed.
AUTH_DEFINITIONS: tuple[tuple[Name, str, str, bool], ...] = (
    (LOCAL_PRE_AUTHORIZE, "false", "boolean", True),
    (LOCAL_AUTHORIZE_OFFLINE, "true", "boolean", True),
    (AUTHORIZE_REMOTE_START, "false", "boolean", True),
    (AUTH_CACHE_ENABLED, "true", "boolean", True),
    (AUTH_CACHE_LIFETIME, "86400", "integer", True),
    (LOCAL_LIST_ENABLED, "true", "boolean", True),
    (LOCAL_LIST_ITEMS, "100", "integer", False),
    (("LocalAuthListCtrlr", "BytesPerMessage"), "4194304", "integer", False),
    (("ReservationCtrlr", "Enabled"), "true", "boolean", False),
    (("ReservationCtrlr", "NonEvseSpecific"), "true", "boolean", False),
)
