import os
import socket

from controller.sdnotify import Notifier


def test_messages_reach_the_socket(tmp_path):
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(path)
        s.settimeout(2)
        n = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"})
        assert n.watchdog_interval_s == 15.0
        assert n.ready("connectors: 1")
        assert s.recv(1024) == b"READY=1\nSTATUS=connectors: 1"
        assert n.watchdog()
        assert s.recv(1024) == b"WATCHDOG=1"


def test_no_socket_is_a_no_op():
    n = Notifier({})
    assert not n.enabled and not n.ready("x") and n.watchdog_interval_s is None


def test_watchdog_for_another_pid_is_ignored():
    n = Notifier({"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"})
    assert os.getpid() == 1 or n.watchdog_interval_s is None


def test_abstract_socket_names(tmp_path):
    name = f"chargectl-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind("\0" + name)
        s.settimeout(2)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).stopping()
        assert s.recv(64) == b"STOPPING=1"
