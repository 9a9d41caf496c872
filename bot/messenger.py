"""The Messenger port: what the domain may ask of a chat platform, and the neutral message model.

The domain composes messages from these parts with already-translated text; each platform
(Slack Block Kit, Teams Adaptive Cards, the sandbox console) renders them. No platform type
crosses this boundary, and messages serialise to JSON so the outbox can store them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True)


class Text(_Part):
    """A paragraph. `*bold*` and `_italic_` are the only markup the catalogue uses."""

    type: Literal["text"] = "text"
    text: str


class Note(_Part):
    """Small print under a message (why you got it, who can see it)."""

    type: Literal["note"] = "note"
    text: str


class Heading(_Part):
    type: Literal["heading"] = "heading"
    text: str


class Divider(_Part):
    type: Literal["divider"] = "divider"


class Button(_Part):
    action: str
    label: str
    value: str = ""
    style: Literal["primary", "danger"] | None = None


class Buttons(_Part):
    type: Literal["buttons"] = "buttons"
    block_id: str
    buttons: tuple[Button, ...]


class Image(_Part):
    type: Literal["image"] = "image"
    url: str
    alt: str
    title: str | None = None


class Quote(_Part):
    """Someone else's words (a customer's comment, a team mate's kudos), shown exactly as
    written: platforms render no markup and no mentions from it."""

    type: Literal["quote"] = "quote"
    text: str


class ChatPlatform(StrEnum):
    """A chat platform Breather talks through; the value is what rows store (chat addresses)."""

    SLACK = "slack"
    TEAMS = "teams"


class ChatUser(BaseModel):
    """A person's user id on one chat platform (Slack `U…`, Teams Entra object id)."""

    model_config = ConfigDict(frozen=True)
    platform: ChatPlatform
    user_id: str


class AgentRef(BaseModel):
    """Everything a messenger may use to find one agent; the stable `agent_id` is the key.

    A person who is not on the roster (a team lead known only by e-mail) has `on_roster`
    False: messengers find them by e-mail and keep no address for them.
    """

    model_config = ConfigDict(frozen=True)
    agent_id: str
    email: str
    chat_users: tuple[ChatUser, ...] = ()  # the ids already known, at most one per platform
    on_roster: bool = True

    def user_id_on(self, platform: ChatPlatform) -> str | None:
        return next((user.user_id for user in self.chat_users if user.platform == platform), None)

    # Outbox rows store a recipient as {"agent_id", "email", "slack_user_id", "teams_user_id",
    # "on_roster"}: kept so, so rows written by an older release still deliver after an upgrade.
    @model_validator(mode="before")
    @classmethod
    def _from_stored(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "chat_users" in data:
            return data
        data = dict(data)
        found = ((platform, data.pop(f"{platform}_user_id", None)) for platform in ChatPlatform)
        data["chat_users"] = tuple(ChatUser(platform=p, user_id=user_id) for p, user_id in found if user_id)
        return data

    @model_serializer
    def _to_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"agent_id": self.agent_id, "email": self.email}
        stored.update({f"{platform}_user_id": self.user_id_on(platform) for platform in ChatPlatform})
        stored["on_roster"] = self.on_roster
        return stored


class Mention(BaseModel):
    """A person named in a `Credit`: a roster agent (the messenger finds their chat user id),
    or a chat user the platform itself told us about (`user_id`). `name` is the fallback."""

    model_config = ConfigDict(frozen=True)
    name: str
    agent: AgentRef | None = None
    user_id: str | None = None


class Credit(_Part):
    """A sentence that credits people: `{0}`, `{1}` ... in `text` become platform mentions
    (on Slack a real @-mention), or the people's names where a platform cannot mention."""

    type: Literal["credit"] = "credit"
    text: str
    mentions: tuple[Mention, ...]


Part = Annotated[
    Text | Note | Heading | Divider | Buttons | Image | Quote | Credit, Field(discriminator="type")
]


class Message(BaseModel):
    """`text` is the notification / screen-reader fallback; `parts` is what is shown."""

    model_config = ConfigDict(frozen=True)
    text: str
    parts: tuple[Part, ...] = ()


def resolve_mentions(message: Message, resolve: Callable[[Mention], Mention]) -> Message:
    """The message with every person its credits name passed through `resolve` (each platform
    turns a roster agent into its own chat user id there)."""
    if not any(isinstance(part, Credit) for part in message.parts):
        return message
    parts = tuple(
        part.model_copy(update={"mentions": tuple(resolve(m) for m in part.mentions)})
        if isinstance(part, Credit)
        else part
        for part in message.parts
    )
    return message.model_copy(update={"parts": parts})


class Option(BaseModel):
    model_config = ConfigDict(frozen=True)
    value: str
    label: str


class ChoiceField(_Part):
    """Pick one option (radio buttons). `id` names the answer in the submitted values."""

    type: Literal["choice"] = "choice"
    id: str
    label: str
    options: tuple[Option, ...]
    optional: bool = False
    hint: str | None = None
    initial: str | None = None


class TextField(_Part):
    type: Literal["text_field"] = "text_field"
    id: str
    label: str
    multiline: bool = False
    optional: bool = False
    max_length: int | None = None
    placeholder: str | None = None
    hint: str | None = None


class PersonField(_Part):
    """Pick one person from the chat platform's directory; submitted as their chat user id."""

    type: Literal["person"] = "person"
    id: str
    label: str
    optional: bool = False
    hint: str | None = None


FormPart = Annotated[
    Text | Note | Heading | Divider | Image | Quote | ChoiceField | TextField | PersonField,
    Field(discriminator="type"),
]


class Form(BaseModel):
    """A modal: shown on a live interaction (`trigger`), submitted back as {field id: value}.

    `callback_id` routes the submission; `context` rides along unchanged (e.g. a round id),
    so it must never hold anything the agent would not want echoed back to them.
    """

    model_config = ConfigDict(frozen=True)
    callback_id: str
    title: str
    submit: str | None  # None: a read-only modal (e.g. a thank-you)
    close: str
    context: str = ""
    parts: tuple[FormPart, ...]


class HomeView(BaseModel):
    """The agent's own page (Slack App Home, Teams personal tab)."""

    model_config = ConfigDict(frozen=True)
    parts: tuple[Part, ...]


class FileUpload(BaseModel):
    model_config = ConfigDict(frozen=True)
    filename: str
    title: str
    alt: str
    content: bytes


class Delivered(BaseModel):
    """Where a message landed, so it can be updated later."""

    model_config = ConfigDict(frozen=True)
    channel: str
    ts: str


class Messenger(Protocol):
    """A chat platform. Calls raise bot.errors.DeliveryFailed / RateLimited on failure.

    Only the outbox worker calls the sending methods, so every message is durable and paced.
    """

    name: ChatPlatform

    def send_direct(self, to: AgentRef, message: Message, *, tag: str = "") -> Delivered:
        """`tag` (the outbox row's key) goes with the message where the platform can carry it."""
        ...

    def post_to_channel(self, channel: str, message: Message, *, tag: str = "") -> Delivered: ...

    def update(self, where: Delivered, message: Message) -> Delivered: ...

    def publish_home(self, to: AgentRef, view: HomeView) -> None: ...

    def upload_file(self, to: AgentRef, file: FileUpload) -> None:
        """Share a file (a chart) in the person's direct messages."""
        ...

    def delete(self, where: Delivered) -> None:
        """Remove a message Breather posted; one that is already gone counts as removed."""
        ...

    def open_form(self, trigger: str, form: Form) -> None:
        """Show a modal now. Interaction-bound (a trigger lives 3 s), so it skips the outbox."""
        ...

    def email_of(self, user_id: str) -> str | None:
        """The e-mail address the platform holds for a user, to match them to the roster."""
        ...


@runtime_checkable
class FindsSent(Protocol):
    """A platform that can tell whether a tagged message already arrived (Slack: message metadata
    read back from the conversation's history). The outbox asks it before sending again a message
    whose worker died while sending it; on other platforms such a message may arrive twice."""

    def find_sent(self, to: AgentRef | str, tag: str, since: datetime) -> Delivered | None:
        """The message tagged `tag` sent to `to` (a person, or a channel id) since `since`, if any."""
        ...
