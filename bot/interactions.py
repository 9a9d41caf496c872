"""One table from a button's `ActionId` to what it does, for every platform.

The Slack listeners and the Teams activity handler read the click from their payload into a
`Click`, call `Interactions.click`, and show the `Reply` their own way. Who opens what is
settled here: a form that continues a flow (the survey, the choice of person to talk to) is
opened by the use case through `Messenger.open_form` on the click's trigger; a one-line answer
for the clicker alone comes back in the `Reply`, and the transport shows it (Slack: `notice`
as a small window; Teams: `text` under the card).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.checkins.actions import CheckinActions
from bot.checkins.messages import ClickNotice, line_notice
from bot.compliments.actions import ComplimentActions
from bot.compliments.thanks_actions import ThanksActions
from bot.home.actions import HomeActions
from bot.i18n import available_languages
from bot.identity import Identity
from bot.ids import CHECKIN_CHOICES, PAUSE_CHOICES, ActionId, language_action, language_of_action
from bot.messenger import ChatUser, Delivered, Form, Messenger
from bot.recovery.actions import RecoveryActions
from bot.roster import RosterAgent
from bot.surveys.actions import SurveyActions


@dataclass(frozen=True)
class Click:
    action: str  # the button's action id (a language button's carries the language)
    value: str  # the button's value: the check-in, invitation or compliment it is about
    agent: RosterAgent | None  # None: not on the roster (a lead, or a stranger)
    email: Callable[[], str | None]  # the clicker's e-mail, asked only for a lead's buttons
    where: Callable[[], Delivered]  # the message clicked in; raises InvalidInput when absent
    trigger: str | None = None  # names this interaction, for the forms it opens
    chat_user: ChatUser | None = None  # who clicked, to address a lead's Home tab (Slack)


@dataclass(frozen=True)
class Reply:
    """What only the clicker is told; nothing when the change shows itself (a republished
    Home tab, an updated message)."""

    text: str | None = None
    notice: Form | None = None  # the same line as a small window, on platforms that have one


Handler = Callable[[Click], Reply | None]


def _noticed(notice: ClickNotice | None) -> Reply:
    return Reply(text=notice.text, notice=notice.form) if notice is not None else Reply()


class Interactions:
    def __init__(
        self,
        *,
        checkins: CheckinActions,
        recovery: RecoveryActions,
        surveys: SurveyActions,
        home: HomeActions,
        compliments: ComplimentActions,
        thanks: ThanksActions,
        identity: Identity,
        messenger: Messenger,
    ) -> None:
        self.checkins = checkins
        self.recovery = recovery
        self.surveys = surveys
        self.home = home
        self.compliments = compliments
        self.thanks = thanks
        self.identity = identity
        self.messenger = messenger
        agents: dict[str, Callable[[Click, RosterAgent], Reply]] = {
            **{pause.value: self._pause for pause in (*PAUSE_CHOICES, ActionId.HOME_RESUME)},
            ActionId.HOME_BUDDY_ON.value: self._buddy,
            ActionId.HOME_BUDDY_OFF.value: self._buddy,
            ActionId.HOME_PAIRING_ON.value: self._pairing,
            ActionId.HOME_PAIRING_OFF.value: self._pairing,
            ActionId.PAIRING_SKIP.value: self._pairing_skip,
            ActionId.HOME_SURVEYS_ON.value: self._surveys,
            ActionId.HOME_SURVEYS_OFF.value: self._surveys,
            ActionId.PULSE_OPEN.value: self._pulse_open,
            ActionId.PULSE_SKIP.value: self._pulse_skip,
            ActionId.PULSE_OPT_OUT.value: self._pulse_opt_out,
            ActionId.COMPLIMENT_SHARE.value: self._compliment_choice,
            ActionId.COMPLIMENT_KEEP_PRIVATE.value: self._compliment_choice,
            ActionId.COMPLIMENT_REMOVE.value: self._compliment_remove,
        }
        # Buttons anyone may click: the answer says why nothing happened, or who they are (a lead).
        anyone: dict[str, Handler] = {
            **{choice.value: self._checkin for choice in CHECKIN_CHOICES},
            ActionId.BUDDY_FREE.value: self._buddy_answer,
            ActionId.BUDDY_CANT.value: self._buddy_answer,
            ActionId.THANKS_SAY.value: self._thanks_say,
            ActionId.THANKS_OFF.value: self._thanks_off,
            **{language_action(code): self._language for code in available_languages()},
        }
        self.table: dict[str, Handler] = {
            **{action: self._for_agents(handler) for action, handler in agents.items()},
            **anyone,
        }

    def handles(self, action: str) -> bool:
        return action in self.table

    def click(self, click: Click) -> Reply | None:
        """What the click did; None when the clicker is not on a Breather team (and not a lead
        where a lead may click). Raises KeyError for an action id not in the table."""
        return self.table[click.action](click)

    @staticmethod
    def _for_agents(handler: Callable[[Click, RosterAgent], Reply]) -> Handler:
        def run(click: Click) -> Reply | None:
            return handler(click, click.agent) if click.agent is not None else None

        return run

    # --- anyone ------------------------------------------------------------------------------

    def _checkin(self, click: Click) -> Reply:
        # "Talk to someone" opens the choice of person on the trigger (the use case does).
        return _noticed(
            self.checkins.answer(
                click.agent, click.value, ActionId(click.action), click.where(), click.trigger
            )
        )

    def _buddy_answer(self, click: Click) -> Reply:
        free = click.action == ActionId.BUDDY_FREE.value
        return _noticed(self.recovery.answer_buddy(click.agent, click.value, free, click.where()))

    def _lead_email(self, click: Click) -> str | None:
        # A team lead, who is usually not an agent: known by the e-mail the platform holds.
        return click.agent.email if click.agent else click.email()

    def _thanks_say(self, click: Click) -> Reply:
        # The nudge itself is updated to say the thanks are posted.
        return Reply(text=self.thanks.say_thanks(self._lead_email(click), click.value, click.where()))

    def _thanks_off(self, click: Click) -> Reply:
        text = self.thanks.set_nudges(self._lead_email(click), False)
        return Reply(text=text, notice=line_notice(text))

    def _language(self, click: Click) -> Reply | None:
        language = language_of_action(click.action)
        if language not in available_languages():
            return Reply()
        if click.agent is not None:
            # A button on the Home tab (the Manager section, when they lead, is drawn again too).
            return Reply(text=self.home.set_language(click.agent, language))
        email = click.email()
        if email is None or not self.identity.readable_teams(email):
            return None
        # A team lead who is not an agent, on the Manager part of their Home tab or home card.
        return Reply(text=self.home.set_lead_language(email, language, chat_user=click.chat_user))

    # --- agents ------------------------------------------------------------------------------

    def _pause(self, click: Click, agent: RosterAgent) -> Reply:
        return Reply(text=self.home.pause_from_home(agent, ActionId(click.action)))

    def _buddy(self, click: Click, agent: RosterAgent) -> Reply:
        return Reply(text=self.home.set_buddy(agent, click.action == ActionId.HOME_BUDDY_ON.value))

    def _pairing(self, click: Click, agent: RosterAgent) -> Reply:
        return Reply(text=self.home.set_pairing(agent, click.action == ActionId.HOME_PAIRING_ON.value))

    def _pairing_skip(self, click: Click, agent: RosterAgent) -> Reply:
        text = self.home.skip_pairing(agent)
        return Reply(text=text, notice=line_notice(text, self.home.catalogue_for(agent)))

    def _surveys(self, click: Click, agent: RosterAgent) -> Reply:
        self.home.set_surveys(agent, click.action == ActionId.HOME_SURVEYS_ON.value)
        return Reply()

    def _pulse_open(self, click: Click, agent: RosterAgent) -> Reply:
        form = self.surveys.open(agent, click.value, click.where())
        if form is not None and click.trigger is not None:
            # Slack's trigger is valid for 3 s: this cannot wait in the outbox. When there is no
            # form, the invitation itself is updated to say why.
            self.messenger.open_form(click.trigger, form)
        return Reply()

    def _pulse_skip(self, click: Click, agent: RosterAgent) -> Reply:
        self.surveys.skip(agent, click.value, click.where())
        return Reply()

    def _pulse_opt_out(self, click: Click, agent: RosterAgent) -> Reply:
        self.surveys.opt_out(agent, click.value, click.where())
        return Reply()

    def _compliment_choice(self, click: Click, agent: RosterAgent) -> Reply:
        share = click.action == ActionId.COMPLIMENT_SHARE.value
        self.compliments.decide(agent, click.value, share=share, where=click.where())
        return Reply()

    def _compliment_remove(self, click: Click, agent: RosterAgent) -> Reply:
        self.compliments.remove_from_dm(agent, click.value, click.where())
        return Reply()
