"""The campaign page's form read into a `CampaignCreate`: empty means "not given"; times are in the
operator's own time zone, as the pages show them; anything else is refused in words."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import ValidationError

from tgadmin.campaign.schemas import CampaignContent, CampaignCreate
from tgadmin.clock import DEFAULT_TIME_ZONE, zone
from tgadmin.errors import InvalidInput


@dataclass
class ComposeForm:
    """What the compose form sent, as typed (it comes back into the form on a refusal)."""

    name: str = ""
    text: str = ""
    assets: list[str] = field(default_factory=list)
    button_text: list[str] = field(default_factory=list)
    button_url: list[str] = field(default_factory=list)
    button_creator: list[str] = field(default_factory=list)
    targets: str = "selection"
    groups: list[str] = field(default_factory=list)
    active_only: bool = True
    tags: list[str] = field(default_factory=list)
    with_rights: bool = False
    when: str = "now"
    at: str = ""
    repeat: str = "none"
    every_hours: str = ""
    daily_at: str = ""
    until: str = ""
    auto_delete_hours: str = ""
    # Not a field of the form: the operator's zone, in which the typed times are read.
    time_zone: str = DEFAULT_TIME_ZONE

    def create(self) -> CampaignCreate:
        try:
            return CampaignCreate.model_validate(self._raw())
        except ValidationError as error:
            raise _refusal(error) from None

    def content(self) -> CampaignContent:
        """The post alone (a test send needs no targets nor schedule)."""
        try:
            return CampaignContent.model_validate(self._raw()["content"])
        except ValidationError as error:
            raise _refusal(error) from None

    def _raw(self) -> dict[str, object]:
        return {
            "name": self.name.strip() or "Campanha",
            "content": {
                "text": self.text.strip() or None,
                "parse_mode": "HTML",
                **self._media(),
                "buttons": self._buttons(),
            },
            **self._targets(),
            "scheduled_at": moment(self.at, "time", self.time_zone) if self.when == "at" else None,
            "repeat_every_hours": number(self.every_hours, "every") if self.repeat == "every" else None,
            "repeat_daily_at": (self.daily_at.strip() or None) if self.repeat == "daily" else None,
            "repeat_timezone": self.time_zone,
            "repeat_until": moment(self.until, "until", self.time_zone) if self.repeat != "none" else None,
            "auto_delete_hours": number(self.auto_delete_hours, "auto-delete"),
        }

    def _media(self) -> dict[str, object]:
        ids = [i for i in (number(value, "media") for value in self.assets) if i is not None]
        if len(ids) == 1:
            return {"media_asset_id": ids[0]}
        return {"album_asset_ids": ids} if ids else {}

    def _buttons(self) -> list[dict[str, object]]:
        found: list[dict[str, object]] = []
        rows = zip(self.button_text, self.button_url, self.button_creator, strict=False)
        for index, (text, url, creator) in enumerate(rows, start=1):
            if not (text.strip() or url.strip() or creator.strip()):
                continue
            if not text.strip() or bool(url.strip()) == bool(creator.strip()):
                raise InvalidInput(f"button {index} needs a text and either an address or a creator")
            target: dict[str, object] = (
                {"url": url.strip()} if url.strip() else {"creator_id": number(creator, "creator")}
            )
            found.append({"text": text.strip(), **target})
        return found

    def _targets(self) -> dict[str, object]:
        if self.targets == "filter":
            return {
                "target_filter": {
                    "active_only": self.active_only,
                    "tags": self.tags,
                    "with_rights": self.with_rights,
                }
            }
        return {"group_ids": [i for i in (number(g, "group") for g in self.groups) if i is not None]}


def _refusal(error: ValidationError) -> InvalidInput:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return InvalidInput(f"{where}: {message}" if where else message)


def number(text: str, name: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise InvalidInput(f"{name}: {text!r} is not a whole number")
    return int(text)


def moment(text: str, name: str, time_zone: str = DEFAULT_TIME_ZONE) -> datetime | None:
    """'2026-11-30T14:05' in the operator's zone (the form's datetime-local); '' -> None."""
    text = text.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{name}: {text!r} is not a time like 2026-11-30T14:05") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone(time_zone))
