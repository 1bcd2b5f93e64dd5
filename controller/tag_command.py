"""`chargectl tag UID [--connector N]`: present a card to the running service, as if it had
been held to a reader. For the bench, the demo and a person at the console.

Exit status: 0 accepted, 1 refused, 2 bad input, 3 service not running, 4 no permission.
"""

from __future__ import annotations

import argparse
import sys

from controller.status import request_service, socket_path, status_state_dir
from controller.tags import check_id_tag

ANSWER_TIMEOUT_S = 60.0  # the service may ask the CSMS first (Authorize, call timeout 30 s)


def tag_command(args: argparse.Namespace) -> int:
    try:
        id_tag = check_id_tag(args.id_tag)
    except ValueError as exc:
        print(f"chargectl tag: {args.id_tag!r}: {exc}", file=sys.stderr)
        return 2
    state_dir, note = status_state_dir(args.config)
    path = socket_path(state_dir)
    looked = f" (looked in the default state dir: {note})" if note else ""
    request = {"request": "tag", "id_tag": id_tag, "connector_id": args.connector}
    try:
        answer = request_service(path, request, ANSWER_TIMEOUT_S)
    except (FileNotFoundError, ConnectionRefusedError):
        print(
            f"chargectl is not running (nothing listens on {path}){looked}: the tag was not "
            "presented. Start it: sudo systemctl start chargectl",
            file=sys.stderr,
        )
        return 3
    except PermissionError:
        print(
            f"no permission to connect to {path}: add yourself to group evse "
            "(sudo usermod -aG evse $USER, then log in again) or use sudo",
            file=sys.stderr,
        )
        return 4
    except (OSError, ValueError) as exc:
        print(f"chargectl did not answer on {path}: {exc}", file=sys.stderr)
        return 3
    if not answer.get("ok"):
        print(f"chargectl tag: {answer.get('error', 'refused by the service')}", file=sys.stderr)
        return 2
    verdict = "accepted" if answer.get("accepted") else "refused"
    print(f"tag {answer.get('id_tag')} at connector {answer.get('connector_id')}: {verdict}")
    return 0 if answer.get("accepted") else 1
