"""The OA webhook (POST /zalo/webhook): Zalo's signature verified, each follower's last interaction recorded."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from config.settings import Settings
from notifiers.zalo import oa_window
from store.zalo_followers import DatabaseFollowers, Follower
from tests.support.fake_zalo import FakeZalo
from tests.support.web_support import FAST
from web.app import create_app
from web.config import WebSettings
from web.routes.zalo_webhook import HANDLERS, PATH, signature_matches

NOW = datetime(2024, 5, 6, 3, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeZalo:
    return FakeZalo(clock=lambda: NOW)  # only signs events here: no server needed


@pytest.fixture
def client(engine: Engine, fake: FakeZalo, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("NHACVIEC_ZALO_APP_ID", fake.app_id)
    monkeypatch.setenv("NHACVIEC_ZALO_OA_SECRET_KEY", fake.oa_secret_key)
    web = WebSettings(secret="s" * 40)  # type: ignore[call-arg]
    with TestClient(
        create_app(Settings(), engine, web_settings=web, clock=lambda: NOW, hasher=FAST)
    ) as client:
        yield client


def post(client: TestClient, fake: FakeZalo, event: dict[str, Any], **options: Any) -> Any:
    body, headers = fake.signed_event(event, **options)
    return client.post(PATH, content=body, headers=headers)


def follower(engine: Engine, user_id: str) -> Follower | None:
    return asyncio.run(DatabaseFollowers(engine).get(user_id))


def text_from(user_id: str, text: str = "Chào Văn phòng", at: datetime = NOW) -> dict[str, Any]:
    return {
        "event_name": "user_send_text",
        "timestamp": str(int(at.timestamp() * 1000)),
        "sender": {"id": user_id},
        "recipient": {"id": "oa-1"},
        "message": {"text": text, "msg_id": "m1"},
        "user_id_by_app": "app-scoped-id",
    }


def test_a_signed_message_records_the_senders_last_interaction(
    client: TestClient, fake: FakeZalo, engine: Engine
) -> None:
    response = post(client, fake, text_from("zalo-tccb", at=NOW - timedelta(minutes=3)))

    assert response.status_code == 200 and response.json() == {"ok": True}
    seen = follower(engine, "zalo-tccb")
    assert seen == Follower("zalo-tccb", NOW - timedelta(minutes=3), None)
    assert oa_window(seen, NOW + timedelta(days=6)) == "open"
    assert oa_window(seen, NOW + timedelta(days=8)) == "closed"
    assert (
        follower(engine, "app-scoped-id") is None
    )  # the OA-scoped id (sender.id) is the one the OA sends to


@pytest.mark.parametrize(
    "tamper",
    ["wrong-secret", "body-changed", "no-header", "other-app"],
)
def test_an_event_without_zalos_signature_is_refused_and_changes_nothing(
    client: TestClient, fake: FakeZalo, engine: Engine, tamper: str
) -> None:
    body, headers = fake.signed_event(
        text_from("zalo-x"), secret="not-the-oa-secret" if tamper == "wrong-secret" else None
    )
    if tamper == "body-changed":
        body = body.replace(b"zalo-x", b"zalo-y")
    if tamper == "no-header":
        del headers["X-ZEvent-Signature"]
    if tamper == "other-app":
        body, headers = FakeZalo(
            app_id="someone-else", oa_secret_key=fake.oa_secret_key, clock=lambda: NOW
        ).signed_event(text_from("zalo-x"))

    response = client.post(PATH, content=body, headers=headers)

    assert response.status_code == 403
    assert "Chữ ký" in response.json()["error"]
    assert follower(engine, "zalo-x") is None and follower(engine, "zalo-y") is None


def test_the_signature_is_read_with_or_without_its_mac_prefix_in_either_case(fake: FakeZalo) -> None:
    body, headers = fake.signed_event(text_from("u"))
    event = json.loads(body)
    digest = headers["X-ZEvent-Signature"].removeprefix("mac=")
    expected = hashlib.sha256(
        (fake.app_id + body.decode() + event["timestamp"] + fake.oa_secret_key).encode()
    ).hexdigest()

    assert digest == expected
    for header in (f"mac={digest}", digest, f"MAC={digest.upper()}", f" mac={digest} "):
        assert signature_matches(body, event, header, fake.oa_secret_key), header
    assert not signature_matches(body, event, f"mac={digest[:-1]}0", fake.oa_secret_key)


def test_follow_and_unfollow_set_whether_the_user_follows_newest_first(
    client: TestClient, fake: FakeZalo, engine: Engine
) -> None:
    def follow(name: str, at: datetime) -> dict[str, Any]:
        return {
            "event_name": name,
            "timestamp": str(int(at.timestamp() * 1000)),
            "oa_id": "oa-1",
            "follower": {"id": "zalo-pgd1"},
            "source": "oa_profile",
        }

    post(client, fake, follow("follow", NOW - timedelta(hours=2)))
    assert follower(engine, "zalo-pgd1") == Follower("zalo-pgd1", NOW - timedelta(hours=2), True)
    post(client, fake, follow("unfollow", NOW - timedelta(hours=1)))
    post(client, fake, follow("follow", NOW - timedelta(hours=2)))  # Zalo repeats an old event: still gone
    gone = follower(engine, "zalo-pgd1")
    assert gone is not None and gone.following is False
    assert oa_window(gone, NOW) == "closed"


def test_a_late_or_repeated_event_never_moves_the_interaction_back_nor_into_the_future(
    client: TestClient, fake: FakeZalo, engine: Engine
) -> None:
    post(client, fake, text_from("zalo-vp", at=NOW - timedelta(days=1)))
    post(client, fake, text_from("zalo-vp", at=NOW - timedelta(days=5)))  # delivered late
    assert follower(engine, "zalo-vp").last_interaction_at == NOW - timedelta(days=1)  # type: ignore[union-attr]

    post(client, fake, text_from("zalo-vp", at=NOW + timedelta(days=3)))  # a clock ahead of ours
    assert follower(engine, "zalo-vp").last_interaction_at == NOW  # type: ignore[union-attr]


def test_every_user_event_we_count_as_an_interaction_has_its_own_handler() -> None:
    assert HANDLERS["user_send_text"].__name__ == "on_user_send_text"  # issue 17 binds invite codes there
    assert {"follow", "unfollow", "user_send_image", "user_send_sticker", "user_submit_info"} <= set(HANDLERS)
    assert "user_seen_message" not in HANDLERS  # a read receipt is not the user writing to the OA


def test_an_event_we_do_not_use_is_acknowledged_and_ignored(
    client: TestClient, fake: FakeZalo, engine: Engine
) -> None:
    event = {"event_name": "user_seen_message", "sender": {"id": "zalo-x"}, "timestamp": "1714964400000"}

    response = post(client, fake, event)

    assert response.status_code == 200 and response.json() == {"ok": True, "ignored": "user_seen_message"}
    assert follower(engine, "zalo-x") is None


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"not json", 400), (b"[]", 400), (b"x" * 70_000, 413)],
    ids=["not-json", "not-an-object", "too-big"],
)
def test_a_malformed_call_gets_a_sentence_and_no_record(client: TestClient, body: bytes, status: int) -> None:
    response = client.post(PATH, content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == status
    assert response.json()["ok"] is False and response.json()["error"]


def test_without_the_oa_secret_key_the_webhook_says_what_to_set(engine: Engine, fake: FakeZalo) -> None:
    web = WebSettings(secret="s" * 40)  # type: ignore[call-arg]
    with TestClient(
        create_app(Settings(), engine, web_settings=web, clock=lambda: NOW, hasher=FAST)
    ) as client:
        response = post(client, fake, text_from("zalo-x"))

    assert response.status_code == 503
    assert "NHACVIEC_ZALO_OA_SECRET_KEY" in response.json()["error"]
