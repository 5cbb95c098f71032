"""In place, a release that fails after the switch is judged within seconds, not at health_deadline."""

from __future__ import annotations

import re
import time

import pytest

from deploysafe import release
from deploysafe.release import ReleaseFailed
from deploysafe.release.health import Patience

from .conftest import serving


def test_a_release_whose_port_never_opens_fails_within_seconds_not_at_the_deadline(
    make_artifact, local_spec, host_root, live_port
):
    spec = local_spec.with_overrides(health_deadline=30.0)
    release.deploy(make_artifact("1.0.0"), spec)

    with pytest.raises(ReleaseFailed) as failure:
        release.deploy(make_artifact("1.6.0", faults={"misses_port": live_port}), spec)

    steps = {s.step: s for s in failure.value.result.steps}
    assert steps["health"].status == "failed"
    found = re.search(r"no pass within ([\d.]+)s: .* boot test answered ([\d.]+)s after its start", str(failure.value))
    assert found, str(failure.value)
    patience, boot = float(found[1]), float(found[2])
    assert patience == pytest.approx(max(Patience.FLOOR, Patience.MULTIPLE * boot), abs=0.1 + Patience.MULTIPLE * 0.05)
    assert patience <= steps["health"].seconds <= patience + 5.0  # far from the 30 s deadline, on a loaded machine too
    assert serving(live_port)["version"] == "1.0.0"


def test_a_release_answering_unhealthy_after_the_switch_fails_fast_too(make_artifact, local_spec, live_port):
    spec = local_spec.with_overrides(health_deadline=30.0)
    release.deploy(make_artifact("1.0.0"), spec)
    started = time.monotonic()

    with pytest.raises(ReleaseFailed, match="no pass within"):
        release.deploy(make_artifact("2.0.0", faults={"unhealthy_on_port": live_port}), spec)

    assert time.monotonic() - started < 15.0
    assert serving(live_port)["version"] == "1.0.0"
