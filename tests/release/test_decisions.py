"""The release engine's decisions, each on its own: the circuit breaker's count, the verdict on a release,
the fallback a failure goes back to, whether a lock's holder is provably dead, and how a run that failed
after its switch ends. End-to-end deploys that exercise them run in test_safety_rails.py,
test_interrupt_matrix.py and test_history_full_disk.py; these pin every branch down in milliseconds (the
mutation bench, bench/mutation.py, runs them per mutant).

Host state is real: a LocalHost on a temporary directory, real symlinks, real processes for lock holders
(a running one, one that ended, a zombie).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploysafe.errors import DeployFailed, LockError, TargetError
from deploysafe.hosts.local import LocalHost
from deploysafe.release import ending, history
from deploysafe.release import target as target_spec
from deploysafe.release.context import Context
from deploysafe.release.events import NullReporter
from deploysafe.release.layout import Layout
from deploysafe.release.lock import Lock, LockInfo, _pid_start, holder_state, read_holder
from deploysafe.release.run import Run, recover_interrupted
from deploysafe.release.state import INSTALL_RECORD, check_layout, existing_releases, install_record, previous_good
from deploysafe.release.steps.lock import guard_breaker

GOOD, FAILED, ROLLED_BACK, INTERRUPTED = history.GOOD, history.FAILED, history.ROLLED_BACK, history.INTERRUPTED


def rec(release: str, status: str, kind: str = "deploy") -> dict:
    return {"kind": kind, "run": f"run-{release}-{status}", "release": release, "status": status}


# ---- the circuit breaker: failed deploys since the last good deploy, rollback or adopt


def failed_ids(records: list[dict]) -> list[str]:
    return [r["release"] for r in history.consecutive_failures(records)]


def test_the_breaker_counts_failed_and_rolled_back_deploys_oldest_first() -> None:
    records = [rec("r1", GOOD), rec("r2", FAILED), rec("r3", ROLLED_BACK), rec("r4", FAILED)]
    assert failed_ids(records) == ["r2", "r3", "r4"]
    assert len(history.consecutive_failures(records)) == history.BREAKER_LIMIT == 3


@pytest.mark.parametrize("kind", ["deploy", "rollback", "adopt"])
def test_a_good_deploy_rollback_or_adopt_closes_the_breaker(kind: str) -> None:
    records = [rec("r1", FAILED), rec("r2", ROLLED_BACK), rec("r0", GOOD, kind), rec("r3", FAILED)]
    assert failed_ids(records) == ["r3"]


def test_interrupted_runs_and_failed_rollbacks_neither_count_nor_close_the_breaker() -> None:
    records = [
        rec("r1", GOOD),
        rec("r2", FAILED),
        rec("r3", INTERRUPTED),
        rec("r1", FAILED, "rollback"),
        rec("r4", ROLLED_BACK),
        rec("r5", GOOD, "unknown-kind"),  # not a deploy, rollback or adopt: no verdict on the target
    ]
    assert failed_ids(records) == ["r2", "r4"]
    assert failed_ids([]) == []


# ---- verdicts on releases


def test_the_latest_verdict_wins_and_a_failed_rollback_away_from_a_release_does_not_condemn_it() -> None:
    records = [
        rec("r1", FAILED),
        rec("r1", GOOD),
        rec("r2", GOOD),
        rec("r2", ROLLED_BACK),
        rec("r3", GOOD),
        rec("r3", FAILED, "rollback"),  # a rollback to r3 failed: r3 was not judged again
        {"kind": "deploy", "release": None, "status": GOOD},
        {"kind": "deploy", "release": "r5", "status": None},
        rec("r4", GOOD, "rollback"),
    ]
    assert history.release_statuses(records) == {"r1": GOOD, "r2": ROLLED_BACK, "r3": GOOD, "r4": GOOD}


def test_good_order_is_most_recently_good_first_without_releases_judged_bad_since() -> None:
    records = [rec("r1", GOOD), rec("r2", GOOD), rec("r3", GOOD), rec("r1", GOOD, "rollback"), rec("r3", ROLLED_BACK)]
    assert history.good_order(records) == ["r1", "r2"]
    assert history.good_order(iter(records)) == ["r1", "r2"]  # any iterable, read once
    assert history.good_order([rec("r1", FAILED), {"status": GOOD, "release": 7}]) == []


def test_three_good_releases_are_ordered_newest_first() -> None:
    assert history.good_order([rec("r1", GOOD), rec("r2", GOOD), rec("r3", GOOD)]) == ["r3", "r2", "r1"]
    # a failed rollback to r1 judged nothing: r2 is still the most recently good
    assert history.good_order([rec("r1", GOOD), rec("r2", GOOD), rec("r1", FAILED, "rollback")]) == ["r2", "r1"]


def test_history_keeps_every_readable_record_and_sets_aside_the_rest(host) -> None:
    target, layout = host
    history.append(target, layout, rec("r1", GOOD))
    history.append(target, layout, rec("r2", FAILED))
    assert Path(layout.history).read_bytes().count(b"\n") == 2  # one line each
    deep = b"[" * 100_000 + b"]" * 100_000  # too deep for the JSON decoder: RecursionError
    data = Path(layout.history).read_bytes() + b"\n  \n{torn\n" + deep + b"\n[1, 2]\n" + b'{"release": "r3"}\n'
    records, torn = history.parse(data)
    assert [r.get("release") for r in records] == ["r1", "r2", "r3"]  # past a blank line
    assert torn == [b"{torn", deep, b"[1, 2]"]
    # a torn last line (a crash mid-write) stays a line of its own: the next record is read
    with open(layout.history, "ab") as handle:
        handle.write(b'{"kind": "deploy", "rel')
    history.append(target, layout, rec("r4", GOOD))
    assert [r["release"] for r in history.read(target, layout)] == ["r1", "r2", "r4"]
    os.remove(layout.history)
    assert history.read(target, layout) == []


# ---- the fallback: where a failed deploy goes back to


@pytest.fixture
def host(tmp_path: Path) -> tuple[LocalHost, Layout]:
    layout = Layout(str(tmp_path / "app"))
    for path in (layout.meta, layout.releases):
        os.makedirs(path)
    return LocalHost(layout.root), layout


def on_disk(layout: Layout, *releases: str) -> None:
    for release in releases:
        os.makedirs(layout.release(release))


def point(target: LocalHost, link: str, layout: Layout, release: str) -> None:
    target.replace_symlink(link, layout.current_link_value(release))


def test_the_fallback_is_the_live_release_when_it_was_judged_good(host) -> None:
    target, layout = host
    on_disk(layout, "r1", "r2", "r3")
    records = [rec("r1", GOOD), rec("r2", GOOD)]
    point(target, layout.current, layout, "r1")  # rolled back to r1 by hand: r1 serves, r2 is newer
    assert previous_good(target, layout, records, exclude="r3") == "r1"
    assert previous_good(target, layout, records, exclude="r3", live="r1") == "r1"
    assert previous_good(target, layout, records, exclude="r1") == "r2"  # never the release being deployed


def test_a_live_release_not_judged_good_or_gone_falls_back_to_the_latest_good_one_on_disk(host) -> None:
    target, layout = host
    on_disk(layout, "r1", "r3", "r4")
    records = [rec("r1", GOOD), rec("r2", GOOD), rec("r3", ROLLED_BACK)]
    assert previous_good(target, layout, records, exclude="r4", live="r3") == "r1"  # judged bad
    assert previous_good(target, layout, records, exclude="r4", live="r2") == "r1"  # r2 was pruned
    assert previous_good(target, layout, records, exclude="r1", live="r3") is None
    assert previous_good(target, layout, [], exclude="r4") is None


def test_last_good_decides_only_for_a_live_release_history_has_no_verdict_on(host) -> None:
    target, layout = host
    on_disk(layout, "r1", "r2", "r3")
    records = [rec("r1", GOOD)]
    point(target, layout.last_good, layout, "r2")  # r2's good record was refused (a full disk)
    assert previous_good(target, layout, records, exclude="r3", live="r2") == "r2"
    assert previous_good(target, layout, records, exclude="r2", live="r2") == "r1"
    point(target, layout.last_good, layout, "r1")
    assert previous_good(target, layout, records, exclude="r3", live="r2") == "r1"  # r2 unjudged, not marked
    # no history at all: the marker alone, if its release is on disk and not the one being deployed
    assert previous_good(target, layout, [], exclude="r3") == "r1"
    assert previous_good(target, layout, [], exclude="r1") is None
    os.rmdir(layout.release("r1"))
    assert previous_good(target, layout, [], exclude="r3") is None
    # a marker on a release history judged bad since is not revived
    point(target, layout.last_good, layout, "r2")
    assert previous_good(target, layout, [rec("r2", ROLLED_BACK)], exclude="r3", live="r3") is None
    assert previous_good(target, layout, [rec("r2", ROLLED_BACK)], exclude="r3", live="r2") is None


def test_only_release_directories_are_releases_on_disk(host) -> None:
    target, layout = host
    on_disk(layout, "r1", ".incoming-r2")
    Path(layout.release("r3")).write_text("a file, not a release")
    assert existing_releases(target, layout) == ["r1"]


def test_the_target_directory_is_missing_empty_a_layout_or_refused(tmp_path: Path) -> None:
    layout = Layout(str(tmp_path / "app"))
    target = LocalHost(layout.root)
    assert check_layout(target, layout) == "missing"
    os.makedirs(layout.releases)
    assert check_layout(target, layout) == "empty"  # releases/ alone is no layout: current is missing
    os.rmdir(layout.releases)
    os.makedirs(layout.shared)
    assert check_layout(target, layout) == "empty"  # only shared/, put there before the first deploy
    os.makedirs(layout.meta)
    assert check_layout(target, layout) == "deploysafe"
    Path(layout.meta, "adopt.json").write_text("{}")
    with pytest.raises(TargetError, match=r"an adopt of .* was interrupted"):
        check_layout(target, layout)
    plain = Layout(str(tmp_path / "plain"))
    os.makedirs(plain.root)
    assert check_layout(LocalHost(plain.root), plain) == "empty"
    Path(plain.root, "a.js").write_text("")
    with pytest.raises(TargetError, match=r"plain non-empty directory \(a\.js\), not"):
        check_layout(LocalHost(plain.root), plain)
    for name in ("b.js", "c.js"):
        Path(plain.root, name).write_text("")
    with pytest.raises(TargetError) as refused:
        check_layout(LocalHost(plain.root), plain)
    assert "plain non-empty directory (a.js, b.js, c.js), not a deploysafe layout" in str(refused.value)
    Path(plain.root, "d.js").write_text("")
    with pytest.raises(TargetError) as refused:
        check_layout(LocalHost(plain.root), plain)
    assert "directory (a.js, b.js, c.js, ...), not" in str(refused.value)
    with pytest.raises(TargetError, match="is not a directory"):
        check_layout(LocalHost(str(Path(plain.root, "a.js"))), Layout(str(Path(plain.root, "a.js"))))


def test_a_release_install_record_is_read_or_none(host) -> None:
    target, layout = host
    on_disk(layout, "r1", "r2", "r3")
    os.makedirs(Path(layout.release("r1"), ".deploysafe"))
    os.makedirs(Path(layout.release("r2"), ".deploysafe"))
    Path(layout.release("r1"), INSTALL_RECORD).write_text('{"lockfile_sha256": "ab"}')
    Path(layout.release("r2"), INSTALL_RECORD).write_text("{torn")
    assert install_record(target, layout, "r1") == {"lockfile_sha256": "ab"}
    assert install_record(target, layout, "r2") is None
    assert install_record(target, layout, "r3") is None


# ---- the lock: a holder is dead only when provably so


def holder(**changes: object) -> LockInfo:
    info = LockInfo.for_this_process("deploy", run="0123456789ab")
    return LockInfo(**{**info.__dict__, **changes})


@pytest.fixture
def sleeper():
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


def wait_for_zombie(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as handle:
            if handle.read().rsplit(")", 1)[-1].split()[0] == "Z":
                return
        time.sleep(0.01)
    raise AssertionError(f"{pid} never became a zombie")


def test_a_running_holder_on_this_machine_is_alive(sleeper) -> None:
    assert holder_state(holder(pid=sleeper.pid, pid_start=_pid_start(sleeper.pid))) == (
        "alive",
        f"process {sleeper.pid} is running",
    )
    assert holder_state(holder(pid=sleeper.pid, pid_start=""))[0] == "alive"  # an older lock without it
    reused = holder(pid=sleeper.pid, pid_start=_pid_start(os.getpid()))  # the pid now runs something newer
    assert holder_state(reused) == ("dead", f"pid {sleeper.pid} now belongs to another process")


def test_a_holders_start_time_is_its_start_in_clock_ticks_since_boot() -> None:
    with open("/proc/uptime") as handle:
        uptime = float(handle.read().split()[0])
    proc = subprocess.Popen(["sleep", "60"])
    try:
        started = int(_pid_start(proc.pid)) / os.sysconf("SC_CLK_TCK")
        assert abs(started - uptime) < 5, (started, uptime)
    finally:
        proc.kill()
        proc.wait()


def test_a_run_that_lost_its_connection_forgets_its_lock_which_then_counts_as_dead(host) -> None:
    target, layout = host
    lock = Lock(target, layout, LockInfo.for_this_process("deploy", run="gone00000001"))
    lock.acquire()
    lock.forget()
    assert not lock.held
    assert holder_state(read_holder(target, layout))[0] == "dead"  # the next run takes it over
    lock.release()  # no longer held: leaves the file to the next run's takeover
    assert read_holder(target, layout).run == "gone00000001"


def test_a_holder_whose_process_ended_or_is_a_zombie_is_dead() -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    assert holder_state(holder(pid=ended.pid, pid_start="")) == (
        "dead",
        f"its process {ended.pid} on this host is gone",
    )
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_for_zombie(zombie.pid)
        assert holder_state(holder(pid=zombie.pid, pid_start=""))[0] == "dead"
    finally:
        zombie.wait()


def test_a_holder_on_another_machine_is_never_presumed_dead(sleeper) -> None:
    other = holder(host=socket.gethostname() + "-other", pid=999_999_999, boot_id="another-boot")
    assert holder_state(other) == ("unknown", f"held from another machine ({other.host})")


def test_a_holder_from_before_a_reboot_is_dead_but_a_lock_without_a_boot_id_is_judged_by_its_pid(sleeper) -> None:
    assert holder_state(holder(boot_id="an-earlier-boot", pid=sleeper.pid))[0] == "dead"
    assert holder_state(holder(boot_id="", pid=sleeper.pid, pid_start=""))[0] == "alive"


def test_a_lock_file_missing_fields_is_read_with_safe_defaults_and_an_unusable_one_is_unreadable() -> None:
    info = LockInfo.parse(b'{"run": "old000000001"}')
    assert info == LockInfo("old000000001", "?", "", "", 0, "", "", "")
    assert holder_state(info)[0] == "unknown"  # no host recorded: never presumed dead
    for data in (b"{not json", b'{"who": "x"}', b'{"run": "r", "pid": "abc"}', b"\xff", b"[1]"):
        assert LockInfo.parse(data) is None, data
    assert LockInfo.parse(info.to_bytes()) == info


def test_a_lock_naming_this_process_is_alive_only_while_its_run_holds_it(host) -> None:
    target, layout = host
    info = LockInfo.for_this_process("deploy", run="thisrun00001")
    assert holder_state(info) == ("dead", "run thisrun00001 of this process has ended")
    lock = Lock(target, layout, info)
    assert not lock.held  # not before acquire: a run that fails before the lock step holds nothing
    assert lock.acquire() is None
    try:
        assert holder_state(info) == ("alive", "held by this process")
    finally:
        lock.release()
    assert read_holder(target, layout) is None
    assert holder_state(info)[0] == "dead"


def test_a_dead_holder_is_taken_over_with_a_message_and_a_live_one_refuses(host, sleeper) -> None:
    target, layout = host
    ended = subprocess.Popen(["true"])
    ended.wait()
    Path(layout.lock).write_bytes(holder(run="deadrun00001", pid=ended.pid).to_bytes())
    messages: list[str] = []
    lock = Lock(target, layout, LockInfo.for_this_process("deploy", run="newrun000001"))
    taken = lock.acquire(on_message=messages.append)
    assert taken is not None and taken.run == "deadrun00001"
    assert messages == [f"taking over the lock of {taken.describe()}: its process {ended.pid} on this host is gone"]
    assert read_holder(target, layout).run == "newrun000001"
    lock.release()

    Path(layout.lock).write_bytes(
        holder(run="liverun00001", pid=sleeper.pid, pid_start=_pid_start(sleeper.pid)).to_bytes()
    )
    started = time.monotonic()
    with pytest.raises(LockError, match="wait for it with --lock-wait"):
        Lock(target, layout, LockInfo.for_this_process("deploy")).acquire(wait=0.3)  # polls every 0.25 s
    assert 0.3 <= time.monotonic() - started < 5
    assert read_holder(target, layout).run == "liverun00001"  # never taken from a live holder


def test_a_lock_held_from_another_machine_refuses_without_the_wait_hint(host) -> None:
    target, layout = host
    Path(layout.lock).write_bytes(holder(host="elsewhere.example").to_bytes())
    started = time.monotonic()
    with pytest.raises(LockError) as refused:
        Lock(target, layout, LockInfo.for_this_process("deploy")).acquire()  # no wait: refused at once
    assert time.monotonic() - started < 1.0
    assert "held from another machine (elsewhere.example)" in str(refused.value)
    assert "--lock-wait" not in str(refused.value)
    Path(layout.lock).write_bytes(b"{not json")
    with pytest.raises(LockError, match="unreadable lock"):
        Lock(target, layout, LockInfo.for_this_process("deploy")).acquire()


class ReleasedMeanwhile(LocalHost):
    """The host as a run sees it when another run releases the lock right after this run's create failed:
    the other run's real :meth:`Lock.release` happens between the failed create and the read."""

    def __init__(self, root: str, other: Lock) -> None:
        super().__init__(root)
        self.other = other
        self.creates = 0

    def create_file(self, path: str, data: bytes) -> bool:
        self.creates += 1
        created = super().create_file(path, data)
        if not created and self.other.held:
            self.other.release()
        return created


def test_a_lock_released_between_a_failed_create_and_the_read_is_taken_at_once(host) -> None:
    target, layout = host
    other = Lock(target, layout, LockInfo.for_this_process("deploy", run="other0000004"))
    assert other.acquire() is None
    racing = ReleasedMeanwhile(layout.root, other)
    mine = Lock(racing, layout, LockInfo.for_this_process("deploy", run="mine00000004"))
    assert mine.acquire() is None  # nothing taken over: the holder let go by itself
    try:
        assert racing.creates == 2 and not other.held  # created on the second try, with no wait asked for
        assert mine.held and read_holder(target, layout).run == "mine00000004"
    finally:
        mine.release()


def test_a_takeover_never_removes_a_lock_a_live_run_took_meanwhile_and_release_removes_only_its_own(host) -> None:
    target, layout = host
    mine = Lock(target, layout, LockInfo.for_this_process("deploy", run="mine00000001"))
    dead = holder(run="deadrun00002")
    assert mine._take_over(dead) is False  # no lock file at all: nothing to move aside
    Path(layout.lock).write_bytes(holder(run="liverun00002").to_bytes())  # a live run got there first
    assert mine._take_over(dead) is False
    assert read_holder(target, layout).run == "liverun00002"
    assert sorted(os.listdir(layout.meta)) == ["lock"]  # put back, nothing left aside
    Path(layout.lock).write_bytes(dead.to_bytes())
    assert mine._take_over(dead) is True
    assert os.listdir(layout.meta) == []
    # release() removes the lock only while it is still this run's
    assert mine.acquire() is None and mine.held
    Path(layout.lock).write_bytes(holder(run="other0000003").to_bytes())  # broken by `unlock` and retaken
    mine.release()
    assert not mine.held and read_holder(target, layout).run == "other0000003"
    assert holder_state(mine.info)[0] == "dead"


# ---- what a killed run left: its run.json becomes a history record once


def left_by_a_killed_run(layout: Layout, record: object) -> None:
    Path(layout.run_file).write_text(json.dumps(record))


def test_a_killed_runs_record_is_recovered_once_as_interrupted_unless_it_had_a_verdict(host) -> None:
    target, layout = host
    assert recover_interrupted(target, layout) is None and history.read(target, layout) == []  # no run.json
    killed = {"kind": "deploy", "run": "killed000001", "release": "r1", "status": "running"}
    left_by_a_killed_run(layout, killed)
    recovered = recover_interrupted(target, layout)
    assert recovered is not None and recovered["status"] == INTERRUPTED and recovered["recovered"] is True
    assert recovered["finished"]  # when it was found, for want of the time it ended
    assert history.read(target, layout) == [recovered]
    assert not os.path.exists(layout.run_file)
    # killed after its verdict (mark-good or the recovery's record) but before it removed run.json: kept
    for n, status in enumerate((GOOD, FAILED, ROLLED_BACK)):
        left_by_a_killed_run(layout, {**killed, "run": f"verdict{n:05}", "status": status, "finished": "then"})
        assert recover_interrupted(target, layout)["status"] == status
        assert history.read(target, layout)[-1] == {
            **killed,
            "run": f"verdict{n:05}",
            "status": status,
            "finished": "then",
            "recovered": True,
        }
    left_by_a_killed_run(layout, {"kind": "rollback", "run": "nostatus0001"})  # killed before it had one
    assert recover_interrupted(target, layout)["status"] == INTERRUPTED
    assert len(history.read(target, layout)) == 5


def test_a_record_already_in_history_or_unreadable_is_not_appended_and_run_json_goes(host) -> None:
    target, layout = host
    appended = {"kind": "deploy", "run": "appended0001", "release": "r1", "status": GOOD}
    history.append(target, layout, appended)
    history.append(target, layout, rec("r2", FAILED))
    left_by_a_killed_run(layout, {**appended, "status": "running"})  # killed between the append and the removal
    assert recover_interrupted(target, layout) == {**appended, "status": "running"}
    assert history.read(target, layout) == [appended, rec("r2", FAILED)]
    assert not os.path.exists(layout.run_file)
    for torn in (b'{"kind": "deploy", "ru', b"\xff\xfe", b"[1, 2]"):  # a torn write, not UTF-8, not a record
        Path(layout.run_file).write_bytes(torn)
        assert recover_interrupted(target, layout) is None
        assert not os.path.exists(layout.run_file)
    assert history.read(target, layout) == [appended, rec("r2", FAILED)]


# ---- the circuit breaker's refusal, in the lock step


def deploy_context(layout: Layout, records: list[dict], *, force: bool = False) -> tuple[Context, list[str]]:
    """A deploy that holds the target's lock (a real Run on a LocalHost) with ``records`` as its history."""
    warnings: list[str] = []

    class Collect(NullReporter):
        def message(self, text: str, level: str = "info") -> None:
            warnings.append(f"{level}: {text}")

    spec = target_spec(layout.root, config={})
    ctx = Context("deploy", spec, LocalHost(layout.root), "r9", Collect(), force=force, records=records)
    ctx.run = Run("deploy", ctx.target, layout, "r9", ctx.reporter)
    ctx.run.lock.acquire()
    ctx.run.save()
    return ctx, warnings


def test_the_breaker_refuses_a_deploy_after_three_failures_and_lets_the_target_go(host) -> None:
    target, layout = host
    records = [rec("r0", FAILED), rec("r1", GOOD), rec("r2", FAILED), rec("r3", ROLLED_BACK)]
    ctx, warnings = deploy_context(layout, records)
    guard_breaker(ctx)  # two in a row: let through
    assert ctx.active.lock.held and os.path.exists(layout.run_file) and warnings == []
    ctx.records = [*records, rec("r4", FAILED), rec("r5", FAILED)]  # four in a row
    with pytest.raises(DeployFailed) as refused:
        guard_breaker(ctx)
    assert str(refused.value) == (
        f"circuit breaker open: the last 4 deploys to {target.url} failed (the latest 3: r3, r4, r5); "
        "fix the cause, then deploy with --force, or roll back with `deploysafe rollback`"
    )
    assert not ctx.active.lock.held and not os.path.exists(layout.lock)  # the next deploy is not locked out
    assert not os.path.exists(layout.run_file)  # and recovers no interrupted run from this one
    assert warnings == []
    ctx, _ = deploy_context(layout, [rec("r1", GOOD), rec("r2", FAILED), rec("r3", ROLLED_BACK), rec("r4", FAILED)])
    with pytest.raises(DeployFailed, match=r"the last 3 deploys to .* failed \(r2, r3, r4\); "):
        guard_breaker(ctx)  # exactly three: each named, none left out


def test_force_deploys_past_an_open_breaker_and_says_so(host) -> None:
    records = [rec("r1", GOOD), rec("r2", FAILED), rec("r3", FAILED), rec("r4", ROLLED_BACK)]
    ctx, warnings = deploy_context(layout=host[1], records=records, force=True)
    guard_breaker(ctx)
    assert warnings == ["warning: --force: ignoring the circuit breaker (3 failed deploys)"]
    assert ctx.active.lock.held and os.path.exists(host[1].run_file)
    ctx.active.lock.release()


# ---- how a run that failed at or after its switch ends


def decide(status: object = "running", can_recover: bool = True, in_switch: bool = False, switched=None, fallback="r1"):
    asked: list[bool] = []

    def was_switched() -> bool:
        asked.append(True)
        return bool(switched)

    way = ending.after_switch(
        status=status, can_recover=can_recover, in_switch=in_switch, switched=was_switched, fallback=fallback
    )
    return way, bool(asked)


def test_a_release_judged_good_or_a_flow_without_recovery_is_never_rolled_back() -> None:
    assert decide(status=GOOD, in_switch=True, switched=True) == (ending.BROKE, False)
    assert decide(status=GOOD, fallback=None) == (ending.BROKE, False)
    assert decide(can_recover=False, in_switch=True, switched=False) == (ending.BROKE, False)


def test_a_failure_in_the_switch_step_stops_unless_current_already_moved() -> None:
    assert decide(in_switch=True, switched=False) == (ending.STOPPED, True)
    assert decide(in_switch=True, switched=False, fallback=None) == (ending.STOPPED, True)
    assert decide(in_switch=True, switched=True) == (ending.RECOVER, True)
    assert decide(in_switch=True, switched=True, fallback=None) == (ending.NO_FALLBACK, True)


def test_a_failure_after_the_switch_recovers_without_asking_the_host() -> None:
    # a later step failed (the connection may be gone, so current cannot be read): it switched
    assert decide(in_switch=False, switched=False) == (ending.RECOVER, False)
    assert decide(status=FAILED, in_switch=False, switched=False) == (ending.RECOVER, False)
    assert decide(in_switch=False, switched=False, fallback=None) == (ending.NO_FALLBACK, False)
