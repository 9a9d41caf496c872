"""Teams activities, routed to the same Services methods as Slack's listeners.

Thin, like the Slack listeners: learn who is writing (and where their 1:1 chat with Breather
is), read the activity, call one service off the event loop, answer. A card click
(`Action.Execute`) is answered with a short message under the card, or, for a form, with the
card that replaces it; the card itself is updated by the outbox, as on Slack. A form opened by
a click (the survey, "talk to someone") is posted as a new card in the same chat: Teams' stand-in
for a modal. Typed commands get their reply straight back, privately, like a Slack slash
command's reply; in a channel that reply goes to the person's 1:1 chat.

People are identified by their Entra object id; they are matched to breather.yml by the e-mail
address (mail or UPN) the Bot Connector gives for them, or by `teams_user_id` there.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from bot.compliments.messages import RECIPIENT_FIELD
from bot.container import Services
from bot.errors import InvalidInput
from bot.i18n import Catalogue, catalogue
from bot.ids import CallbackId
from bot.interactions import Click
from bot.languages import failure_catalogue
from bot.messenger import ChatPlatform, ChatUser, Delivered, Form, Message, Text
from bot.recovery.messages import TALK_FIELD
from bot.roster import RosterAgent
from handlers.teams.cards import (
    ACTION_KEY,
    CARD_CONTENT_TYPE,
    CONTEXT_KEY,
    VALUE_KEY,
    Card,
    form_card,
    message_card,
    submitted_values,
)
from handlers.teams.commands import KUDOS, ChatCommand, Mentioned, message_text, parse_command
from handlers.teams.connector import card_activity
from handlers.teams.directory import TeamsPerson
from handlers.teams.messenger import MAILTO, TeamsMessenger
from handlers.teams.sdk import (
    ActivityBase,
    ActivityContext,
    AdaptiveCard,
    AdaptiveCardActionCardResponse,
    AdaptiveCardActionErrorResponse,
    AdaptiveCardActionMessageResponse,
    AdaptiveCardInvokeActivity,
    AdaptiveCardInvokeResponse,
    App,
    Attachment,
    CardTaskModuleTaskInfo,
    HttpError,
    InnerHttpError,
    InstalledActivity,
    MentionEntity,
    MessageActivity,
    MessageExtensionFetchTaskInvokeActivity,
    MessageExtensionSubmitActionInvokeActivity,
    MessagingExtensionActionInvokeResponse,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    UninstalledActivity,
)

log = logging.getLogger(__name__)

PERSONAL = "personal"


@dataclass(frozen=True)
class CardAction:
    user: str  # the clicking person's Entra object id
    verb: str
    data: dict[str, Any]
    where: Delivered | None  # the message the card is in
    trigger: str  # names this interaction, for forms it opens

    @property
    def value(self) -> str:
        return str(self.data.get(VALUE_KEY, ""))

    @property
    def location(self) -> Delivered:
        if self.where is None:
            raise InvalidInput("card action without the message it came from", status=400)
        return self.where


@dataclass(frozen=True)
class MessageAction:
    """A message action ("Share as a compliment", "Remove my compliment") on someone's message."""

    user: str  # the person who chose it: their Entra object id
    command: str  # the manifest command id, Breather's shortcut callback id
    where: Delivered  # the message it was used on
    text: str  # that message's words, as plain text
    trigger: str


# A dialog's next step: a form to show in it, a short line in a pop-up, or None to close it.
DialogStep = Form | str | None


@dataclass
class Answer:
    """How to answer a click: a line under the card, or a card replacing it; plus new forms."""

    message: str | None = None
    card: Card | None = None
    forms: list[Card] = field(default_factory=list)


@dataclass(frozen=True)
class Failure:
    """What an activity answers when its work failed: 400 with the reason for a refused input,
    500 with the kind message and its reference for anything else."""

    status: int
    text: str


T = TypeVar("T")


class TeamsActions:
    """What each click and typed command does: one Services call each (run in a thread)."""

    def __init__(self, services: Services, messenger: TeamsMessenger) -> None:
        self.services = services
        self.messenger = messenger
        # Buttons go through the interaction table (bot/interactions.py); these are the
        # submissions of forms posted as cards, Teams' stand-in for a modal.
        self.routes: dict[str, Callable[[CardAction, RosterAgent], Answer]] = {
            CallbackId.PULSE_SURVEY.value: self._survey_submitted,
            CallbackId.TALK.value: self._talk_submitted,
        }

    def resolve(self, user: str) -> RosterAgent | None:
        return self.services.identity.agent(self.messenger.name, user, self.messenger.email_of)

    def _cat(self, agent: RosterAgent | None) -> Catalogue:
        return self.services.home.catalogue_for(agent) if agent else catalogue("en")

    def note_locale(self, user: str, locale: str | None) -> None:
        """Every activity carries the sender's Teams locale: the language they read when they
        have not chosen one."""
        if not locale:
            return
        agent = self.resolve(user)
        if agent is not None:
            self.services.home.note_platform_locale(agent, locale)
        elif self._leads(email := self.messenger.email_of(user)):
            # A team lead who is not an agent: kept with their lead switches (bot/languages.py).
            self.services.home.note_lead_locale(email, locale)

    def _leads(self, email: str | None) -> bool:
        """Someone who reads a team's digest (a lead or an admin)."""
        return bool(self.services.identity.readable_teams(email))

    def unexpected(self, what: str, error: Exception, user: str | None) -> str:
        """Log a failure once, with its traceback (masked) but never the payload; what to tell
        the person, with the reference, in their language."""
        reference = uuid.uuid4().hex[:8]
        log.error("teams %s failed (reference %s): %s", what, reference, type(error).__name__, exc_info=error)
        try:
            agent = self.resolve(user) if user else None
        except Exception:  # whatever failed may fail again here: English will do
            agent = None
        cat = failure_catalogue(self.services.engine, agent, error)
        return cat.t("error.unexpected", reference=reference)

    def catalogue_of(self, user: str | None) -> Catalogue:
        """The language of a line the adapter itself answers with: the sender's own (an agent's
        choice, a lead's), else English."""
        try:
            agent = self.resolve(user) if user else None
            if agent is not None:
                return self._cat(agent)
            email = self.messenger.email_of(user) if user else None
            return self.services.home.lead_catalogue(email) or catalogue("en")
        except Exception:  # the line must still be said: English will do
            log.warning("teams: the sender's language could not be read", exc_info=True)
            return catalogue("en")

    async def attempt(self, what: str, user: str | None, work: Callable[[], Awaitable[T]]) -> T | Failure:
        """The one place a Teams activity's failure is handled, so every surface tells the
        person the same way, in their language, and logs it once."""
        try:
            return await work()
        except InvalidInput as error:
            return Failure(400, str(error))
        except Exception as error:
            return Failure(500, await run_in_threadpool(self.unexpected, what, error, user))

    # --- card actions --------------------------------------------------------------------

    def card_action(self, action: CardAction) -> Answer:
        agent = self.resolve(action.user)
        if self.services.interactions.handles(action.verb):
            answer = self._click(action, agent)
        elif (route := self.routes.get(action.verb)) is None:
            raise InvalidInput("unknown card action", status=400)
        elif agent is None:
            answer = Answer(message=self._cat(None).t("command.not_on_roster"))
        else:
            answer = route(action, agent)
        forms = self.messenger.take_forms(action.trigger)
        answer.forms = [form_card(form, required=self._required(agent)) for form in forms]
        if answer.forms and answer.card is None:
            answer.message = self._cat(agent).t("teams.form_below")
        return answer

    def _click(self, action: CardAction, agent: RosterAgent | None) -> Answer:
        reply = self.services.interactions.click(
            Click(
                action=action.verb,
                value=action.value,
                agent=agent,
                email=lambda: self.messenger.email_of(action.user),
                where=lambda: action.location,
                trigger=action.trigger,
            )
        )
        if reply is None:
            return Answer(message=self._cat(None).t("command.not_on_roster"))
        if reply.text:
            return Answer(message=reply.text.replace("`", ""))  # a line under a card shows no markup
        return self._received(agent)

    def _received(self, agent: RosterAgent | None) -> Answer:
        return Answer(message=self._cat(agent).t("teams.received"))

    def _required(self, agent: RosterAgent | None) -> str:
        return self._cat(agent).t("teams.required")

    def _survey_submitted(self, action: CardAction, agent: RosterAgent) -> Answer:
        context = str(action.data.get(CONTEXT_KEY, ""))
        submission = self.services.survey_actions.submit(agent, context, submitted_values(action.data))
        if submission.errors:
            # Teams checks required answers before sending, so this is rare: say it, keep the form.
            return Answer(message=" ".join(dict.fromkeys(submission.errors.values())))
        if submission.thanks is not None:
            return Answer(card=form_card(submission.thanks, required=self._required(agent)))
        return self._received(agent)

    def _talk_submitted(self, action: CardAction, agent: RosterAgent) -> Answer:
        context = str(action.data.get(CONTEXT_KEY, ""))
        refusal = self.services.recovery_actions.submit_talk(
            agent, context, submitted_values(action.data).get(TALK_FIELD, "")
        )
        if refusal is not None:
            return Answer(message=refusal)
        return Answer(card=message_card(_line(self._cat(agent).t("teams.form_sent"))))

    def _recipient(self, user: str, data: dict[str, Any]) -> DialogStep:
        """Who a compliment from "Share as a compliment" is about: a field error, or the notice.
        Its forms open only in message-action dialogs, so their answers arrive here, never as
        card actions."""
        result = self.services.compliments.submit_recipient(
            user,
            recipient_user_id=submitted_values(data).get(RECIPIENT_FIELD, ""),
            context=str(data.get(CONTEXT_KEY, "")),
        )
        return result.field_error or result.notice

    # --- message actions (Teams' message extension commands) ------------------------------

    def message_action(self, action: MessageAction) -> DialogStep:
        """The dialog a message action opens: the same forms as Slack's message shortcuts."""
        compliments = self.services.compliments
        where = action.where
        if action.command == CallbackId.SHARE_AS_COMPLIMENT.value:
            compliments.share_form(
                action.user, text=action.text, channel=where.channel, ts=where.ts, trigger=action.trigger
            )
        elif action.command == CallbackId.REMOVE_COMPLIMENT.value:
            compliments.remove_post(action.user, channel=where.channel, ts=where.ts, trigger=action.trigger)
        else:
            raise InvalidInput("unknown message action", status=400)
        forms = self.messenger.take_forms(action.trigger)
        return forms[0] if forms else None

    def dialog_submitted(self, user: str, data: dict[str, Any]) -> DialogStep:
        if data.get(ACTION_KEY) == CallbackId.COMPLIMENT_RECIPIENT.value:
            return self._recipient(user, data)
        return None  # a notice's "Close", or anything else: close the dialog

    # --- typed commands ----------------------------------------------------------------------

    def command(
        self, user: str, command: ChatCommand, recipient: str | None, event_key: str
    ) -> Message | None:
        """The private reply to `breather …` or `kudos …`; None when the answer comes another way."""
        agent = self.resolve(user)
        email = agent.email if agent else self.messenger.email_of(user)
        if command.name == KUDOS:
            reply = self.services.compliments.kudos(user, recipient, command.text)
            return _line(reply)
        words = command.text.split()
        if words[:1] == ["home"]:
            return self._home(user, agent, email, event_key)
        caller = ChatUser(platform=ChatPlatform.TEAMS, user_id=user)
        return self.services.commands.breather(agent, command.text, email=email, caller=caller)

    def _home(
        self, user: str, agent: RosterAgent | None, email: str | None, event_key: str
    ) -> Message | None:
        """Teams has no App Home tab: `breather home` posts the same page as a card (the outbox
        sends it), and later changes refresh that card in place."""
        if agent is None and not self._leads(email):
            return _line(self._cat(None).t("command.not_on_roster"))
        self.messenger.directory.request_home(user)
        self.services.home.opened(agent, f"teams:{event_key}", email=email)
        return None


def _line(text: str) -> Message:
    return Message(text=text, parts=(Text(text=text),))


def _sender(activity: ActivityBase) -> str | None:
    """Who acted: their Entra object id (what breather.yml's teams_user_id holds)."""
    account = activity.from_
    return account.aad_object_id or None


def _channel(conversation_id: str) -> str:
    """A channel message's conversation id ends in ";messageid=…" (its thread); posts are kept
    under the channel's own id."""
    return conversation_id.split(";", 1)[0]


def dialog(step: DialogStep, cat: Catalogue) -> MessagingExtensionActionInvokeResponse:
    """A message action's dialog: show a form, pop up a line, or close (an empty answer)."""
    if step is None:
        return MessagingExtensionActionInvokeResponse()
    if isinstance(step, str):
        return MessagingExtensionActionInvokeResponse(task=TaskModuleMessageResponse(value=step))
    card = form_card(step, required=cat.t("teams.required"), in_dialog=True)
    info = CardTaskModuleTaskInfo(
        title=step.title, card=Attachment(content_type=CARD_CONTENT_TYPE, content=card)
    )
    return MessagingExtensionActionInvokeResponse(task=TaskModuleContinueResponse(value=info))


def _error(status: int, message: str) -> AdaptiveCardInvokeResponse:
    bad = status == 400
    code = 400 if bad else 500
    error = HttpError(
        code="badRequest" if bad else "unexpected",
        message=message,
        inner_http_error=InnerHttpError(status_code=code, body=None),
    )
    return AdaptiveCardActionErrorResponse(status_code=code, value=error)


def register(app: App, services: Services, messenger: TeamsMessenger) -> TeamsActions:
    actions = TeamsActions(services, messenger)
    directory = messenger.directory

    def address(email: str | None, upn: str | None) -> str | None:
        """The person's address as breather.yml knows it: their mail or their UPN."""
        candidates = [a.lower() for a in (email, upn) if a]
        for candidate in candidates:
            if services.identity.known(candidate):
                return candidate
        return candidates[0] if candidates else None

    async def look_up(
        ctx: ActivityContext[Any], conversation_id: str, teams_user_id: str
    ) -> TeamsPerson | None:
        """Ask the Bot Connector who a member of this conversation is (e-mail, Entra id)."""
        try:
            member = await ctx.api.conversations.get_member_by_id(conversation_id, teams_user_id)
        except Exception as error:  # not a member, or Teams is unreachable: carry on without
            log.info("teams: member look-up failed (%s)", type(error).__name__)
            return None
        if not member.aad_object_id:
            return None
        return TeamsPerson(
            aad_object_id=member.aad_object_id,
            teams_user_id=member.id,
            email=address(member.email, member.user_principal_name),
            upn=member.user_principal_name,
            name=member.name,
        )

    async def remember_sender(ctx: ActivityContext[ActivityBase]) -> None:
        """Every activity tells where the person's chat with Breather is (install, first
        message, any click); the first one also who they are, from a member look-up."""
        activity = ctx.activity
        user = _sender(activity)
        if user is not None:
            conversation = activity.conversation
            personal = conversation.conversation_type == PERSONAL
            person = TeamsPerson(
                aad_object_id=user,
                teams_user_id=activity.from_.id,
                name=activity.from_.name,
                conversation_id=conversation.id if personal else None,
                service_url=activity.service_url if personal else None,
                tenant_id=conversation.tenant_id,
            )
            known = await run_in_threadpool(directory.by_aad, user)
            if known is None or known.email is None:
                found = await look_up(ctx, conversation.id, activity.from_.id)
                if found is not None and found.aad_object_id == user:
                    person = replace(person, email=found.email, upn=found.upn)
            await run_in_threadpool(directory.remember, person)
            await run_in_threadpool(actions.note_locale, user, activity.locale)
        await ctx.next()

    app.use(remember_sender)

    async def answer_dialog(user: str, step: DialogStep | Failure) -> MessagingExtensionActionInvokeResponse:
        if isinstance(step, Failure):
            return dialog(step.text, catalogue("en"))
        if isinstance(step, Form):  # its "please answer" line, in the sender's language
            return dialog(step, await run_in_threadpool(actions.catalogue_of, user))
        return dialog(step, catalogue("en"))

    @app.on_card_action_execute
    async def on_card_action(ctx: ActivityContext[AdaptiveCardInvokeActivity]) -> AdaptiveCardInvokeResponse:
        activity = ctx.activity
        user = _sender(activity)
        if user is None:
            return _error(400, "card action without a Teams user")
        invoked = activity.value.action
        verb = invoked.verb or str(invoked.data.get(ACTION_KEY) or "")
        where = (
            Delivered(channel=activity.conversation.id, ts=activity.reply_to_id)
            if activity.reply_to_id
            else None
        )
        action = CardAction(
            user=user, verb=verb, data=dict(invoked.data), where=where, trigger=uuid.uuid4().hex
        )

        async def work() -> Answer:
            answer = await run_in_threadpool(actions.card_action, action)
            for form in answer.forms:
                # Interaction-bound, like Slack's views.open: the person is waiting for it now.
                await ctx.send(card_activity(form))
            return answer

        try:
            answer = await actions.attempt(f"card action {verb}", user, work)
        finally:
            messenger.take_forms(action.trigger)  # never keep a form an error left behind
        if isinstance(answer, Failure):
            return _error(answer.status, answer.text)
        if answer.card is not None:
            return AdaptiveCardActionCardResponse(value=AdaptiveCard.model_validate(answer.card))
        if answer.message is not None:
            return AdaptiveCardActionMessageResponse(value=answer.message)
        cat = await run_in_threadpool(actions.catalogue_of, user)
        return AdaptiveCardActionMessageResponse(value=cat.t("teams.received"))

    @app.on_message
    async def on_message(ctx: ActivityContext[MessageActivity]) -> None:
        activity = ctx.activity
        user = _sender(activity)
        if user is None or not activity.text.strip():
            return  # e.g. an old-style card submit: Breather's cards use Action.Execute
        mentions = [
            Mentioned(
                id=entity.mentioned.id,
                name=entity.mentioned.name or "",
                text=entity.text or f"<at>{entity.mentioned.name}</at>",
            )
            for entity in activity.entities or []
            if isinstance(entity, MentionEntity)
        ]
        command = parse_command(activity.text, mentions, activity.recipient.id)
        recipient = None
        if command.recipient is not None:
            found = await look_up(ctx, activity.conversation.id, command.recipient.id)
            if found is not None:
                await run_in_threadpool(directory.remember, found)
            recipient = found.aad_object_id if found else command.recipient.id
        elif command.recipient_email is not None:
            known = await run_in_threadpool(directory.by_email, command.recipient_email)
            recipient = known.aad_object_id if known else MAILTO + command.recipient_email
        result = await actions.attempt(
            "command", user, lambda: run_in_threadpool(actions.command, user, command, recipient, activity.id)
        )
        reply = _line(result.text) if isinstance(result, Failure) else result
        if reply is None:
            return
        card = card_activity(message_card(reply))
        if activity.conversation.conversation_type == PERSONAL:
            await ctx.send(card)
            return
        # Said in a channel: answer in the person's own chat, never in front of the team.
        person = await run_in_threadpool(directory.by_aad, user)
        if person is not None and person.conversation_id:
            await ctx.api.conversations.create_activity(
                person.conversation_id, card, service_url=person.service_url
            )
        else:
            cat = await run_in_threadpool(actions.catalogue_of, user)
            await ctx.send(cat.t("teams.open_private_chat"))

    @app.on_message_ext_open
    async def on_message_action(
        ctx: ActivityContext[MessageExtensionFetchTaskInvokeActivity],
    ) -> MessagingExtensionActionInvokeResponse:
        """ "Share as a compliment" / "Remove my compliment" chosen on a message."""
        activity = ctx.activity
        user = _sender(activity)
        message = activity.value.message_payload
        if user is None or message is None or not message.id:
            cat = await run_in_threadpool(actions.catalogue_of, user)
            return dialog(cat.t("teams.message_action_unavailable"), cat)
        body = message.body
        action = MessageAction(
            user=user,
            command=activity.value.command_id or "",
            where=Delivered(channel=_channel(activity.conversation.id), ts=message.id),
            text=message_text(body.content or "", is_html=body.content_type != "text") if body else "",
            trigger=uuid.uuid4().hex,
        )
        try:
            step = await actions.attempt(
                f"message action {action.command}",
                user,
                lambda: run_in_threadpool(actions.message_action, action),
            )
        finally:
            messenger.take_forms(action.trigger)
        return await answer_dialog(user, step)

    @app.on_message_ext_submit
    async def on_dialog_submit(
        ctx: ActivityContext[MessageExtensionSubmitActionInvokeActivity],
    ) -> MessagingExtensionActionInvokeResponse:
        user = _sender(ctx.activity)
        data = ctx.activity.value.data
        if user is None or not isinstance(data, dict):
            return dialog(None, catalogue("en"))
        step = await actions.attempt(
            "message action dialog", user, lambda: run_in_threadpool(actions.dialog_submitted, user, data)
        )
        return await answer_dialog(user, step)

    @app.on_install_add
    async def on_install(ctx: ActivityContext[InstalledActivity]) -> None:
        conversation = ctx.activity.conversation
        if conversation.conversation_type != PERSONAL:
            # The operator needs a channel id for breather.yml; an id is not personal data.
            log.info(
                "teams: Breather was added to a team; to post in one of its channels, set a team's "
                "`channel:` in breather.yml to that channel's id (this team's General channel: %s)",
                conversation.id,
            )

    @app.on_install_remove
    async def on_uninstall(ctx: ActivityContext[UninstalledActivity]) -> None:
        user = _sender(ctx.activity)
        if user is not None and ctx.activity.conversation.conversation_type == PERSONAL:
            await run_in_threadpool(directory.forget, user)

    return actions
