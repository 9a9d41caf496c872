"""Zendesk's side of a trigger-connected webhook: the body as Zendesk renders it, then signed.

Zendesk pastes each placeholder's text into the body the operator wrote, as unformatted text
and without JSON escaping; `{{satisfaction.current_rating}}` is the rating's display text in the
requester's language. `render` does exactly that, so tests see what a real account sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from handlers.telephony.zendesk import sign

# The body the README gave before issue 22: the rating as display text, the comment mid-body.
LEGACY_BODY = (
    '{"type": "satisfaction_rating",\n'
    ' "satisfaction_rating": {"score": "{{satisfaction.current_rating}}",\n'
    '                         "comment": "{{satisfaction.current_comment}}",\n'
    '                         "assignee_id": "{{ticket.assignee.id}}",\n'
    '                         "ticket_id": "{{ticket.id}}"},\n'
    ' "ticket": {"id": "{{ticket.id}}", "requester": {"name": "{{ticket.requester.name}}"}}}'
)

# The legacy rating's display text. English is Zendesk's ("Good, I'm satisfied" is the survey
# link's wording); Romanian and Persian are the same sentences as Breather expects them.
DISPLAY_TEXT = {
    "en": {"good": "Good, I'm satisfied", "bad": "Bad, I'm unsatisfied"},
    "ro": {"good": "Bun, sunt mulțumit", "bad": "Rău, nu sunt mulțumit"},
    "fa": {"good": "خوب، راضی هستم", "bad": "بد، راضی نیستم"},
}


@dataclass(frozen=True)
class RatedTicket:
    rating: str = "good"
    comment: str = "Ana was so patient!"
    ticket_id: int = 77
    assignee_id: int | None = 3001
    requester: str = "Jo Bloggs"
    language: str = "en"

    def placeholders(self) -> dict[str, str]:
        return {
            "ticket.id": str(self.ticket_id),
            "ticket.assignee.id": "" if self.assignee_id is None else str(self.assignee_id),
            "ticket.requester.name": self.requester,
            "satisfaction.current_rating": DISPLAY_TEXT[self.language][self.rating],
            "satisfaction.current_comment": self.comment,
        }


def render(template: str, ticket: RatedTicket) -> bytes:
    """The body Zendesk sends for `ticket` from the trigger body `template`."""
    body = template
    for name, value in ticket.placeholders().items():
        body = body.replace("{{" + name + "}}", value)
    return body.encode()


def signed_headers(body: bytes, secret: str, at: datetime | None = None) -> dict[str, str]:
    stamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": sign(secret, body, stamp),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }
