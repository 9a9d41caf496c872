"""Every table. Importing this package registers them all on SQLModel.metadata."""

from storage.models.calls import Call, InboundEvent, InboundKind
from storage.models.checkins import AgentPrefs, Checkin, Pairing
from storage.models.compliments import Compliment, ComplimentStatus, Kudos, LeadPrefs
from storage.models.digests import DigestAccess, DigestRelease, SurgeAlert
from storage.models.outbox import OutboxKind, OutboxMessage, OutboxStatus
from storage.models.recovery import Break, BreakState, BuddyAsk, TalkRequest
from storage.models.replays import SeenRequest
from storage.models.roster import Agent, ChatAddress, Team
from storage.models.sandbox import SandboxMessage
from storage.models.surveys import InvitationState, SurveyAnswer, SurveyInvitation, SurveyRound
from storage.models.teams import TeamsConversation

__all__ = [
    "Agent",
    "AgentPrefs",
    "Break",
    "BreakState",
    "Call",
    "ChatAddress",
    "Checkin",
    "DigestAccess",
    "DigestRelease",
    "Compliment",
    "ComplimentStatus",
    "InboundEvent",
    "InboundKind",
    "InvitationState",
    "Kudos",
    "OutboxKind",
    "OutboxMessage",
    "OutboxStatus",
    "SandboxMessage",
    "SeenRequest",
    "SurgeAlert",
    "SurveyAnswer",
    "SurveyInvitation",
    "SurveyRound",
    "TalkRequest",
    "BuddyAsk",
    "Pairing",
    "LeadPrefs",
    "Team",
    "TeamsConversation",
]
