"""The channels nhacviec sends on: one spec each, and the only place a channel is listed.

Everything that differs between channels and is not the notifier's own protocol lives in a
:class:`ChannelSpec`: the contact field of the unit directory that holds the address, how long one
message may be, the template files a message is rendered from, the file the sink writes, whether the
settings configure a real sender, the environment variables that do, and the factory of its notifier.
Delivery, the CLI, the web admin and the templates read it from :data:`CHANNELS`.

This module sits low (next to :class:`rules.model.Channel`, which rules name): it imports nothing
above the rules, so every layer may use it. Which notifier serves a channel is delivery's business
(:mod:`delivery.channels`), not listed here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rules.model import Channel
from vocabulary import CHANNEL_LABELS

if TYPE_CHECKING:
    from config.settings import Settings


@dataclass(frozen=True)
class ChannelSpec:
    code: str
    contact_field: str  # the attribute of plan.units.Contacts that holds the address
    limit: int | None  # characters (UTF-16 code units) one message may hold; None: no limit
    body: str  # the rendered part a message is made of: "html" (Telegram's subset) or "text"
    template_parts: tuple[tuple[str, str], ...]  # (part, file suffix) rendered from <code>/<kind>.<suffix>
    sink_suffix: str  # what the file sink writes for it
    settings_hint: str  # the environment variables that configure a real sender
    _configured: Callable[[Any], bool]
    fallback_field: str | None = None  # a contact that still reaches the recipient without the address

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self.code]

    def configured(self, settings: Settings) -> bool:
        """Whether the settings give this channel a real sender (otherwise it writes to the file sink)."""
        return self._configured(settings)


CHANNELS: Mapping[str, ChannelSpec] = {
    spec.code: spec
    for spec in (
        ChannelSpec(
            code=Channel.EMAIL,
            contact_field="email",
            limit=None,
            body="text",
            template_parts=(("subject", "subject.j2"), ("text", "txt.j2"), ("html", "html.j2")),
            sink_suffix=".eml",
            settings_hint="NHACVIEC_SMTP_HOST",
            _configured=lambda settings: bool(settings.smtp_host),
        ),
        ChannelSpec(
            code=Channel.TELEGRAM,
            contact_field="telegram_chat_id",
            limit=4096,
            body="html",
            template_parts=(("html", "html.j2"),),
            sink_suffix=".txt",
            settings_hint="NHACVIEC_TELEGRAM_TOKEN",
            _configured=lambda settings: settings.telegram_token is not None,
        ),
        ChannelSpec(
            code=Channel.ZALO,
            contact_field="zalo_user_id",
            limit=2000,  # an OA consultation message (docs: /work/shared/specs/zalo-api.md)
            body="text",
            template_parts=(("text", "txt.j2"),),
            sink_suffix=".txt",
            settings_hint="NHACVIEC_ZALO_APP_ID, NHACVIEC_ZALO_SECRET_KEY",
            _configured=lambda settings: bool(settings.zalo_app_id and settings.zalo_secret_key),
            fallback_field="phone",  # a ZNS template message by phone number
        ),
    )
}
CODES: tuple[str, ...] = tuple(CHANNELS)


def spec(code: str) -> ChannelSpec:
    """The spec of channel ``code``; a KeyError names an unknown one."""
    return CHANNELS[str(code)]
