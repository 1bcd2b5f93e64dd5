"""Login bookkeeping, on a time passed in: sessions expire when idle, the origin check is strict."""

from controller.web.auth import LOGIN_ATTEMPTS_PER_MINUTE, SESSION_IDLE_S, Auth, same_origin


def test_sessions_expire_when_idle_and_logout_ends_them():
    auth = Auth("garage-door-42")
    sid = auth.login("10.0.0.2", auth.password_ok("garage-door-42"), 100.0)
    assert sid is not None
    s = auth.session(sid, 100.0 + SESSION_IDLE_S - 1)
    assert s is not None and len(s.csrf) >= 32
    assert auth.session(sid, 100.0 + 2 * SESSION_IDLE_S - 2) is not None  # use keeps it alive
    assert auth.session(sid, 100.0 + 4 * SESSION_IDLE_S) is None
    sid2 = auth.login("10.0.0.2", True, 0.0)
    auth.logout(sid2)
    assert auth.session(sid2, 0.0) is None
    assert auth.session("made-up", 0.0) is None


def test_wrong_passwords_lock_one_client_for_a_minute():
    auth = Auth("garage-door-42")
    assert not auth.password_ok("Garage-door-42")
    for i in range(LOGIN_ATTEMPTS_PER_MINUTE):
        assert auth.login("10.0.0.9", False, float(i)) is None
    assert auth.throttled("10.0.0.9", 10.0)
    assert not auth.throttled("10.0.0.3", 10.0)  # another address is not locked out
    assert not auth.throttled("10.0.0.9", 65.0)


def test_no_password_means_no_login():
    auth = Auth(None)
    assert not auth.enabled
    assert not auth.password_ok("")
    assert auth.login("127.0.0.1", True, 0.0) is None


def test_origin_must_be_exactly_our_own():
    host = "charger.local:8080"
    assert same_origin("http://charger.local:8080", None, host)
    assert not same_origin("http://charger.local:8080.evil.example", None, host)
    assert not same_origin("https://charger.local:8080", None, host)
    assert not same_origin("null", None, host)
    assert same_origin(None, "http://charger.local:8080/", host)
    assert not same_origin(None, "http://charger.local:8080.evil.example/", host)
    assert not same_origin(None, None, host)
    assert not same_origin("http://charger.local:8080", None, None)
