"""The pure phase choice: what asks for one phase, and how slowly three come back."""

from controller.charger.phase_choice import PhaseChooser, PhaseInputs, PhaseReason


def inputs(**kw):
    base = dict(
        can_switch=True,
        hardware_phases=3,
        phases_in_use=3,
        profile_phases=None,
        fuse_cap_3p_a=None,
        fuse_cap_1p_a=None,
        min_current_a=6.0,
    )
    return PhaseInputs(**{**base, **kw})


def test_a_connector_that_cannot_switch_keeps_its_phases():
    chooser = PhaseChooser()
    assert chooser.choose(inputs(can_switch=False, profile_phases=1), 0) == (
        3,
        PhaseReason.HARDWARE,
    )


def test_profile_one_phase_and_never_three_because_a_profile_says_so():
    chooser = PhaseChooser(up_after_s=300)
    assert chooser.choose(inputs(profile_phases=1), 0) == (1, PhaseReason.PROFILE)
    # On one phase; a profile that says 3 does not switch back by itself at once.
    assert chooser.choose(inputs(phases_in_use=1, profile_phases=3), 1) == (1, PhaseReason.KEEP)
    assert chooser.choose(inputs(phases_in_use=1, profile_phases=3), 300) == (1, PhaseReason.KEEP)
    assert chooser.choose(inputs(phases_in_use=1, profile_phases=3), 301) == (
        3,
        PhaseReason.THREE_FIT,
    )


def test_fuse_one_phase_when_3x6_does_not_fit_and_1x6_does():
    chooser = PhaseChooser(up_after_s=300)
    assert chooser.choose(inputs(fuse_cap_3p_a=4.0, fuse_cap_1p_a=15.0), 0) == (
        1,
        PhaseReason.MAIN_FUSE,
    )
    # Neither fits: no reason to switch (the guard pauses).
    assert chooser.choose(inputs(fuse_cap_3p_a=4.0, fuse_cap_1p_a=5.0), 0) == (
        3,
        PhaseReason.KEEP,
    )
    # On one phase: three phases must fit with 1 A to spare, for 300 s without a break.
    on_one = {"phases_in_use": 1, "fuse_cap_1p_a": 20.0}
    assert chooser.choose(inputs(fuse_cap_3p_a=6.5, **on_one), 10)[0] == 1
    assert chooser.choose(inputs(fuse_cap_3p_a=8.0, **on_one), 20)[0] == 1
    assert chooser.choose(inputs(fuse_cap_3p_a=5.0, **on_one), 200) == (1, PhaseReason.MAIN_FUSE)
    assert chooser.choose(inputs(fuse_cap_3p_a=8.0, **on_one), 210)[0] == 1
    assert chooser.choose(inputs(fuse_cap_3p_a=8.0, **on_one), 509)[0] == 1
    assert chooser.choose(inputs(fuse_cap_3p_a=8.0, **on_one), 510) == (3, PhaseReason.THREE_FIT)
