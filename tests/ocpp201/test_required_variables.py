"""B: the required variables of OCPPCommCtrlr and SecurityCtrlr the first round lacked, read
back with GetVariables and in the full report, ReadOnly; the password WriteOnly."""

from __future__ import annotations

from tests.ocpp201.rig201 import booted, rig201

REQUIRED = {
    ("OCPPCommCtrlr", "OfflineThreshold"): "0",
    ("OCPPCommCtrlr", "NetworkConfigurationPriority"): "1",
    ("OCPPCommCtrlr", "FileTransferProtocols"): "HTTP,HTTPS,FTP",
    ("OCPPCommCtrlr", "ResetRetries"): "0",
    ("SecurityCtrlr", "OrganizationName"): "chargectl",
    ("SecurityCtrlr", "CertificateEntries"): "0",
    ("AuthCacheCtrlr", "Enabled"): "true",
    ("LocalAuthListCtrlr", "Enabled"): "true",
    ("LocalAuthListCtrlr", "Entries"): "0",
}


def _item(component, variable, value=None):
    out = {"component": {"name": component}, "variable": {"name": variable}}
    return out if value is None else out | {"attribute_value": value}


async def test_the_required_variables_are_read_only_and_reported(tmp_path):
    async with rig201(tmp_path) as r:
        await booted(r)
        h = r.service.handlers
        got = h.get_variables([_item(c, n) for c, n in REQUIRED])
        assert {
            (g["component"]["name"], g["variable"]["name"]): g["attribute_value"] for g in got
        } == REQUIRED
        refused = h.set_variables([_item("OCPPCommCtrlr", "OfflineThreshold", "60")])
        assert refused[0]["attribute_status"] == "Rejected"
        report = r.service.ctx.variables.report_data("FullInventory") or []
        names = {(d["component"]["name"], d["variable"]["name"]) for d in report}
        assert set(REQUIRED) <= names
        assert ("SecurityCtrlr", "BasicAuthPassword") not in names


async def test_the_password_is_write_only_checked_and_kept(tmp_path):
    async with rig201(tmp_path) as r:
        await booted(r)
        h = r.service.handlers
        [got] = h.get_variables([_item("SecurityCtrlr", "BasicAuthPassword")])
        assert got["attribute_status"] == "Rejected" and "attribute_value" not in got
        [bad] = h.set_variables([_item("SecurityCtrlr", "BasicAuthPassword", "short")])
        assert bad["attribute_status"] == "Rejected"
        profile = _item("SecurityCtrlr", "SecurityProfile")
        assert h.get_variables([profile])[0]["attribute_value"] == "0"  # no password configured
        [ok] = h.set_variables([_item("SecurityCtrlr", "BasicAuthPassword", "a" * 16)])
        assert ok["attribute_status"] == "Accepted"
        assert h.password.current(r.service.settings).password == "a" * 16
        assert h.get_variables([profile])[0]["attribute_value"] == "1"  # Basic auth now
    async with rig201(tmp_path) as r:  # restarted
        assert r.service.handlers.password.current(r.service.settings).password == "a" * 16
