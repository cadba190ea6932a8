"""Signed "Đã hoàn thành" links: the token round trip, and every way a token can be refused."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from inbound.links import (
    DoneClaim,
    ExpiredLinkError,
    LinkError,
    MalformedLinkError,
    TamperedLinkError,
    done_url,
    links_for,
    make_done_token,
    verify_done_token,
)
from plan.deadline import DeadlineKind
from planner.model import Notification, Recipient, TaskInput
from rules.model import Channel, NotificationKind, Role

SECRET = "k3Y-for-signing-nhacviec-links-0123456789"
NOW = datetime(2020, 11, 20, 7, 30, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=30)


def token(**overrides: object) -> str:
    args: dict[str, object] = {"plan": "CCHC-2020", "task": "IV.4", "unit": "TCCB", "expires_at": EXPIRES}
    args |= overrides
    return make_done_token(SECRET, **args)  # type: ignore[arg-type]


def flip(text: str, index: int) -> str:
    """``text`` with the character at ``index`` replaced by another URL-safe one."""
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


def raw(text: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode()


def test_a_token_verifies_back_to_the_plan_task_unit_and_expiry_it_was_made_with() -> None:
    made = token()

    assert verify_done_token(SECRET, made, NOW) == DoneClaim(
        plan="CCHC-2020", task="IV.4", unit="TCCB", expires_at=EXPIRES, version=1
    )
    assert made.replace("-", "").replace("_", "").isalnum()  # URL-safe, no padding


def test_vietnamese_codes_and_a_secretstr_secret_round_trip() -> None:
    made = make_done_token(SecretStr(SECRET), "KH-Sở-2020", "IV.4", "TCCB", EXPIRES)

    claim = verify_done_token(SecretStr(SECRET), made, NOW)

    assert (claim.plan, claim.task, claim.unit) == ("KH-Sở-2020", "IV.4", "TCCB")


def test_a_token_is_refused_as_expired_from_its_expiry_second_on() -> None:
    made = token()

    assert verify_done_token(SECRET, made, EXPIRES - timedelta(seconds=1)).task == "IV.4"
    with pytest.raises(ExpiredLinkError) as caught:
        verify_done_token(SECRET, made, EXPIRES)
    assert caught.value.reason == "expired"
    assert "hết hạn" in str(caught.value)
    assert "20/12/2020" in str(caught.value)


def test_a_changed_payload_byte_is_refused_as_tampered() -> None:
    data = raw(token())
    unit_start = data.index(b"TCCB")
    data[unit_start : unit_start + 4] = b"KHTC"  # another unit confirming TCCB's task

    with pytest.raises(TamperedLinkError) as caught:
        verify_done_token(SECRET, encode(data), NOW)
    assert caught.value.reason == "tampered"


def test_a_pushed_back_expiry_is_refused_as_tampered() -> None:
    data = raw(token())
    data[1:9] = int((EXPIRES + timedelta(days=365)).timestamp()).to_bytes(8, "big")

    with pytest.raises(TamperedLinkError):
        verify_done_token(SECRET, encode(data), EXPIRES + timedelta(days=1))


def test_a_changed_signature_byte_is_refused_as_tampered() -> None:
    data = raw(token())
    data[-1] ^= 0x01

    with pytest.raises(TamperedLinkError):
        verify_done_token(SECRET, encode(data), NOW)


def test_a_token_signed_with_another_secret_is_refused_as_tampered() -> None:
    with pytest.raises(TamperedLinkError):
        verify_done_token("another-secret-of-another-installation", token(), NOW)


def test_an_expired_token_with_a_bad_signature_is_tampered_not_expired() -> None:
    """The signature is checked before anything the token says is believed."""
    with pytest.raises(TamperedLinkError):
        verify_done_token("another-secret-of-another-installation", token(), EXPIRES + timedelta(days=9))


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "a b", "token=", "%41%42", "🙂", "A" * 5000, "AAAA", "\n"],
    ids=["empty", "short", "space", "padding", "percent", "emoji", "huge", "zeros", "newline"],
)
def test_malformed_strings_are_refused_as_malformed(bad: str) -> None:
    with pytest.raises(MalformedLinkError) as caught:
        verify_done_token(SECRET, bad, NOW)
    assert caught.value.reason == "malformed"
    assert "định dạng" in str(caught.value)


def test_a_cut_token_is_malformed_or_tampered_never_accepted() -> None:
    made = token()
    for length in range(len(made)):
        with pytest.raises((MalformedLinkError, TamperedLinkError)):
            verify_done_token(SECRET, made[:length], NOW)


def test_an_unknown_version_is_malformed() -> None:
    data = raw(token())
    data[0] = 2

    with pytest.raises(MalformedLinkError) as caught:
        verify_done_token(SECRET, encode(data), NOW)
    assert "phiên bản" in str(caught.value)


def test_a_non_canonical_spelling_of_the_last_character_is_not_accepted() -> None:
    made = token()
    assert len(made) % 4 in (2, 3)  # the last character carries unused bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    others = [made[:-1] + c for c in alphabet if c != made[-1]]

    for other in others:
        with pytest.raises(LinkError):
            verify_done_token(SECRET, other, NOW)


def test_error_messages_never_contain_the_secret() -> None:
    errors: list[LinkError] = []
    for attempt in (
        lambda: verify_done_token(SECRET, "x", NOW),
        lambda: verify_done_token(SECRET, token(), EXPIRES),
    ):
        with pytest.raises(LinkError) as caught:
            attempt()
        errors.append(caught.value)
    with pytest.raises(LinkError) as caught:
        verify_done_token("other-secret-value-for-testing", token(), NOW)
    errors.append(caught.value)

    for error in errors:
        assert SECRET not in str(error) and SECRET not in repr(error)
        assert "other-secret-value-for-testing" not in str(error)


def test_a_short_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="NHACVIEC_LINK_SECRET"):
        make_done_token("short", "CCHC-2020", "IV.4", "TCCB", EXPIRES)


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        make_done_token(SECRET, "CCHC-2020", "IV.4", "TCCB", datetime(2020, 12, 1))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_string_is_refused_with_the_typed_error_only(text: str) -> None:
    with pytest.raises(LinkError):
        verify_done_token(SECRET, text, NOW)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_decodable_bytes_are_refused_with_the_typed_error_only(data: bytes) -> None:
    with pytest.raises(LinkError):
        verify_done_token(SECRET, encode(data), NOW)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_changing_any_byte_of_a_token_is_refused(position: int, mask: int) -> None:
    data = raw(token())
    data[position % len(data)] ^= mask

    with pytest.raises(LinkError):
        verify_done_token(SECRET, encode(data), NOW)


def test_done_url_puts_the_token_under_done_on_the_base_url() -> None:
    assert done_url("https://nhacviec.example/", "abc_-1") == "https://nhacviec.example/done/abc_-1"


# --- links_for --------------------------------------------------------------------------------------


def task_input(lead: tuple[str, ...] = ("TCCB",)) -> TaskInput:
    return TaskInput(
        plan="CCHC-2020",
        code="IV.4",
        section="IV",
        content="Kiện toàn tổ chức bộ máy",
        deadline_text="Trước tháng 12/2020",
        kind=DeadlineKind.DATE,
        start=None,
        due=date(2020, 11, 30),
        occurrences=(),
        lead=lead,
        coordinating=("PCMNV",),
    )


def notification(*recipients: Recipient, with_task: bool = True) -> Notification:
    return Notification(
        key="reminder|CCHC-2020|IV.4|2020-11-23",
        at=NOW,
        kind=NotificationKind.REMINDER,
        rule="reminder",
        template="reminder",
        recipients=recipients,
        task="IV.4" if with_task else None,
        plan="CCHC-2020" if with_task else None,
        data={"task": task_input()} if with_task else {},
    )


def recipient(code: str, role: Role = Role.TO) -> Recipient:
    return Recipient(code, role, Channel.EMAIL)


@pytest.mark.parametrize("code", ["TCCB", "TCCB.head"])
def test_links_for_the_lead_unit_or_its_head_carry_a_token_for_that_unit(code: str) -> None:
    to = recipient(code)

    links = links_for(notification(to), to, SECRET, "https://nhacviec.example", NOW, timedelta(days=14))

    assert links is not None
    prefix = "https://nhacviec.example/done/"
    assert links["done_url"].startswith(prefix)
    claim = verify_done_token(SECRET, links["done_url"].removeprefix(prefix), NOW)
    assert (claim.plan, claim.task, claim.unit) == ("CCHC-2020", "IV.4", "TCCB")
    assert claim.expires_at == NOW + timedelta(days=14)


@pytest.mark.parametrize("code", ["PCMNV", "PGD1", "VP", "TCCBX"])
def test_links_for_anyone_but_the_lead_unit_are_none(code: str) -> None:
    other = recipient(code, Role.CC)

    assert links_for(notification(other), other, SECRET, "https://x.example", NOW, timedelta(days=1)) is None


def test_no_links_without_a_task_a_secret_or_a_base_url() -> None:
    to = recipient("TCCB")
    ttl = timedelta(days=1)

    assert links_for(notification(to, with_task=False), to, SECRET, "https://x.example", NOW, ttl) is None
    assert links_for(notification(to), to, None, "https://x.example", NOW, ttl) is None
    assert links_for(notification(to), to, SECRET, "", NOW, ttl) is None
