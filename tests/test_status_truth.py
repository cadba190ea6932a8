"""``status`` tells the truth: a leader whose heart stopped is not named active; times are Vietnam time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cli.common import tz
from cli.status import scheduler_truth


def _state(beat_age: float, state: str = "active") -> dict:  # type: ignore[type-arg]
    now = datetime.now(tz())
    return {
        "state": state,
        "worker": "may-a:123",
        "since": (now - timedelta(hours=1)).isoformat(),
        "next_runs": {"retry": (datetime.now(UTC) + timedelta(seconds=40)).isoformat()},
        "heartbeat_at": (now - timedelta(seconds=beat_age)).isoformat(),
        "heartbeat_seconds": 5.0,
    }


def test_a_leader_whose_heartbeat_stopped_is_unresponsive_not_active() -> None:
    now = datetime.now(tz())
    assert scheduler_truth(_state(2), now)["state"] == "active"  # type: ignore[index]
    assert scheduler_truth(_state(16), now)["state"] == "unresponsive"  # type: ignore[index]
    old = _state(0)
    del old["heartbeat_at"]  # recorded by a version without a heartbeat: not trusted
    assert scheduler_truth(old, now)["state"] == "unresponsive"  # type: ignore[index]
    assert scheduler_truth(_state(600, "stopped"), now)["state"] == "stopped"  # type: ignore[index]


def test_next_runs_are_shown_in_vietnam_time() -> None:
    truth = scheduler_truth(_state(1), datetime.now(tz()))
    assert truth is not None and truth["next_runs"]["retry"].endswith("+07:00")


def test_status_names_a_dead_leader_as_not_answering(run_cli) -> None:  # type: ignore[no-untyped-def]
    from config.settings import Settings
    from store.db import make_engine
    from store.state import SCHEDULER, set_state

    assert run_cli("init").exit_code == 0
    engine = make_engine(Settings().effective_database_url)
    set_state(engine, SCHEDULER, _state(60))
    shown = run_cli("status")
    assert shown.exit_code == 0
    assert "không phản hồi" in shown.stdout and "đang chạy" not in shown.stdout
    set_state(engine, SCHEDULER, _state(1))
    live = run_cli("status")
    assert "đang chạy" in live.stdout
    retry = datetime.fromisoformat(_state(1)["next_runs"]["retry"]).astimezone(tz())
    assert f"{retry:%d/%m/%Y}" in live.stdout and "+00:00" not in live.stdout
    engine.dispose()


def test_status_names_jobs_in_vietnamese_and_the_last_pass_in_vietnam_time(run_cli) -> None:  # type: ignore[no-untyped-def]
    from config.settings import Settings
    from store.db import make_engine
    from store.state import SCHEDULER, set_last_pass, set_state
    from vocabulary import SCHEDULER_JOBS

    assert run_cli("init").exit_code == 0
    engine = make_engine(Settings().effective_database_url)
    state = _state(1)
    soon = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    state["next_runs"] = {"pass": soon, "retry": soon, "leadership": soon}
    set_state(engine, SCHEDULER, state)
    set_last_pass(engine, datetime(2026, 11, 30, 0, 30, 15, 123456, tzinfo=UTC), {})
    shown = run_cli("status")
    engine.dispose()

    assert shown.exit_code == 0, shown.stderr
    assert "Lượt gần nhất: 07:30 30/11/2026\n" in shown.stdout  # Vietnam time, as the screen's other moments
    assert "2026-11-30" not in shown.stdout and ".123456" not in shown.stdout
    for job in ("pass", "retry", "leadership"):
        assert SCHEDULER_JOBS[job] in shown.stdout
        assert f"'{job}'" not in shown.stdout and f" {job}:" not in shown.stdout
