"""GetDiagnostics the Pi way: a tarball of what a person needs to understand this charger.

The service journal for the asked window (or the service's own recent log when there is no
journal), the effective configuration with secrets masked, the status document that
`chargectl status --json` prints, the versions, and the profile and queue summaries. Every file
is scrubbed of the known secrets before it enters the tarball. Nothing here speaks OCPP.
"""

from controller.diagnostics.collect import DiagnosticsStatus, Sources, build_tarball

__all__ = ["DiagnosticsStatus", "Sources", "build_tarball"]
