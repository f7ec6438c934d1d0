"""The torch toggle: a real switch where the platform has one, an honest "unavailable" elsewhere."""

from __future__ import annotations

from checkpoint_app.ui.torch import Torch, platform_torch


def test_desktop_has_no_torch_and_the_toggle_stays_off():
    torch = platform_torch()  # Linux desktop: OpenCV cannot drive a torch
    assert not torch.available
    assert torch.toggle() is False and torch.on is False


def test_a_platform_switch_is_called_and_tracked():
    calls: list[bool] = []
    torch = Torch(calls.append)
    assert torch.toggle() is True and torch.toggle() is False
    assert calls == [True, False]


def test_a_failing_switch_leaves_the_state_unchanged():
    def busy_camera(on: bool) -> None:
        raise RuntimeError("CAMERA_IN_USE")

    torch = Torch(busy_camera)
    assert torch.set(True) is False and torch.on is False
