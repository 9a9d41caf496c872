"""Block Kit as the console shows it: what Breather sends is readable, and nothing is executable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.checkins.messages import checkin_prompt
from bot.errors import InvalidInput
from bot.i18n import catalogue
from bot.messenger import ChoiceField, Form, Option, PersonField, TextField
from handlers.sandbox.blockkit_html import EMOJI, Render, blocks_html, modal_html, mrkdwn_html
from handlers.sandbox.console_input import submission_state
from handlers.slack.blocks import RADIO_OPTIONS_MAX, form_view, message_blocks, submitted_values

TADA = '<img class="bk-emoji" src="/sandbox/static/emoji/tada.svg" alt="\U0001f389">'
HANDS = '<img class="bk-emoji" src="/sandbox/static/emoji/raised_hands.svg" alt="\U0001f64c">'
NAMES = {"U0ANA": "Ana Popescu"}
RENDER = Render(cat=catalogue("en"), names=NAMES, people=(("U0ANA", "Ana Popescu"), ("U0BOB", "Bob Stan")))


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("*on*", "<strong>on</strong>"),
        ("_gently_", "<em>gently</em>"),
        ("~gone~", "<s>gone</s>"),
        ("type `/breather pause`", "type <code>/breather pause</code>"),
        ("*bold _and italic_*", "<strong>bold <em>and italic</em></strong>"),
        ("thanks <@U0ANA>!", 'thanks <span class="mention">@Ana Popescu</span>!'),
        ("hi <@U0ZED|zed>", 'hi <span class="mention">@zed</span>'),
        ("<!here> look", '<span class="mention">@here</span> look'),
        ("in <#C0BILLING|billing>", 'in <span class="mention">#billing</span>'),
        (
            "see <https://example.org/a?b=1&amp;c=2|the guide>",
            'see <a href="https://example.org/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">'
            "the guide</a>",
        ),
        ("one\ntwo", "one<br>two"),
        ("checkin_max_age and 2*3*4 stay as typed", "checkin_max_age and 2*3*4 stay as typed"),
        ("a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"),
        ("```line 1\n<tag>```", "<pre>line 1\n&lt;tag&gt;</pre>"),
        # A quote, as Slack shows it: a bar beside the quoted lines, no "> " left in the text.
        (
            "*A customer said:*\n&gt; So *patient*\n&gt; and kind\nThanks",
            '<strong>A customer said:</strong><blockquote class="bk-quote">So <strong>patient</strong>'
            "<br>and kind</blockquote>Thanks",
        ),
        ("> typed quote", '<blockquote class="bk-quote">typed quote</blockquote>'),
        ("5 > 3 mid-line", "5 &gt; 3 mid-line"),
    ],
)
def test_mrkdwn_basics(text: str, html: str) -> None:
    assert mrkdwn_html(text, NAMES) == html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "*<img src=x onerror=alert(1)>*",
        '<javascript:alert(1)|click "me">',
        "`</code><script>x</script>`",
    ],
)
def test_nothing_in_a_message_can_become_markup(text: str) -> None:
    html = mrkdwn_html(text, NAMES)
    assert "<script" not in html and "<img" not in html and "javascript:" not in html.split(">", 1)[0]
    assert "href" not in html


def test_a_link_to_a_script_keeps_only_its_label() -> None:
    assert mrkdwn_html("<javascript:alert(1)|click me>", NAMES) == "click me"


def test_the_checkin_renders_as_text_buttons_and_small_print() -> None:
    message = checkin_prompt(
        catalogue("en"), checkin_id="c-1", signals=["abuse"], break_minutes=5, transfers=None
    )
    html = blocks_html(message_blocks(message), RENDER)
    assert "That last call sounded like a hard one. How are you doing?" in html
    assert (
        '<button type="button" class="bk-button bk-button-primary" data-action-id="checkin.ok" '
        'data-value="c-1" data-block-id="checkin">I&#x27;m OK</button>'
    ) in html
    assert html.count("<button") == 3
    assert '<div class="bk-context"><span>Why you&#x27;re seeing this: the call was marked abusive.' in html


def test_attribute_values_are_escaped() -> None:
    blocks = [
        {
            "type": "actions",
            "block_id": 'b"><script>',
            "elements": [
                {
                    "type": "button",
                    "action_id": "a",
                    "value": '"><img onerror=x>',
                    "text": {"type": "plain_text", "text": "<b>Go</b>"},
                }
            ],
        },
        {"type": "image", "image_url": 'https://x.test/a.png" onerror="x', "alt_text": '"><script>'},
    ]
    html = blocks_html(blocks, RENDER)
    assert "<script" not in html and "<img onerror" not in html and "<b>" not in html
    assert 'data-value="&quot;&gt;&lt;img onerror=x&gt;"' in html
    assert 'src="https://x.test/a.png&quot; onerror=&quot;x"' in html


def test_header_divider_section_fields_and_image() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your week"}},
        {"type": "divider"},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": "*Calls*\n812"}, {"type": "plain_text", "text": "*raw*"}],
        },
        {
            "type": "image",
            "image_url": "/charts/1.png",
            "alt_text": "Calls per day",
            "title": {"type": "plain_text", "text": "Load"},
        },
    ]
    html = blocks_html(blocks, RENDER)
    assert '<h3 class="bk-header">Your week</h3><hr class="bk-divider">' in html
    assert "<div><strong>Calls</strong><br>812</div><div>*raw*</div>" in html
    assert '<img class="bk-image-img" src="/charts/1.png" alt="Calls per day" loading="lazy">' in html
    assert "<figcaption>Load</figcaption>" in html


def test_images_from_script_urls_show_their_alt_text_instead() -> None:
    html = blocks_html([{"type": "image", "image_url": "javascript:alert(1)", "alt_text": "A chart"}], RENDER)
    assert "<img" not in html and "A chart" in html


def test_unknown_blocks_are_shown_as_a_placeholder_not_dropped() -> None:
    html = blocks_html([{"type": "rich_text", "elements": []}], RENDER)
    assert "rich_text is not shown in the sandbox console" in html


def test_input_blocks_appear_only_in_modals() -> None:
    form = Form(
        callback_id="pulse.submit",
        title="Pulse",
        submit="Send",
        close="Not now",
        parts=(
            ChoiceField(
                id="q1",
                label="I have felt cheerful",
                options=(Option(value="5", label="All of the time"), Option(value="0", label="At no time")),
                hint="Over the last two weeks",
            ),
            TextField(id="comment", label="Anything to add?", optional=True, multiline=True, max_length=500),
        ),
    )
    view = form_view(form)
    assert "bk-unsupported" in blocks_html(view["blocks"], RENDER)  # an input outside a form
    html = modal_html(view, RENDER)
    assert '<h2 id="modal-title">Pulse</h2>' in html
    assert (
        '<fieldset class="bk-choices" aria-describedby="bk-hint-q1 bk-error-q1">'
        "<legend>I have felt cheerful</legend>" in html
    )
    assert html.count('type="radio" required') == 1  # one is enough to make the group required
    assert '<input type="radio" name="q1" value="0">' in html
    assert (
        '<label class="bk-label" for="bk-field-comment">Anything to add? '
        '<span class="bk-optional">(optional)</span></label>' in html
    )
    assert (
        '<textarea id="bk-field-comment" name="comment" aria-describedby="bk-error-comment" '
        'maxlength="500" rows="4">' in html
    )
    assert '<p class="bk-error" id="bk-error-q1" hidden></p>' in html
    assert (
        ">Not now</button>" in html
        and '<button type="submit" class="bk-button bk-button-primary">Send</button>' in html
    )


# --- menus and person pickers, submitted as Slack submits them ------------------------------

TEAM_MATES = tuple(Option(value=f"mate:{n}", label=f"Mate {n:02d} (team mate)") for n in range(12))


def talk_like_form(*, initial: str | None = None, optional: bool = False) -> dict[str, object]:
    """A modal with more choices than Slack allows radio buttons for, like "Talk to someone"."""
    choice = ChoiceField(
        id="person", label="Choose someone", options=TEAM_MATES, initial=initial, optional=optional
    )
    return form_view(
        Form(callback_id="recovery.talk", title="Talk", submit="Send", close="Cancel", parts=(choice,))
    )


def test_more_choices_than_radio_buttons_render_as_a_labelled_menu() -> None:
    assert len(TEAM_MATES) > RADIO_OPTIONS_MAX
    html = modal_html(talk_like_form(), RENDER)
    assert "not shown" not in html and 'type="radio"' not in html
    assert (
        '<label class="bk-label" for="bk-field-person">Choose someone</label>'
        '<select id="bk-field-person" name="person" aria-describedby="bk-error-person" required>'
        '<option value="">Choose someone</option><option value="mate:0">Mate 00 (team mate)</option>'
    ) in html
    assert html.count("<option ") == len(TEAM_MATES) + 1
    preset = modal_html(talk_like_form(initial="mate:3", optional=True), RENDER)
    assert '<option value="mate:3" selected>' in preset and " required" not in preset


def test_a_person_picker_offers_the_workspaces_people() -> None:
    picker = PersonField(id="recipient", label="Who is it about?", hint="Names are hidden first")
    view = form_view(
        Form(
            callback_id="compliment.recipient", title="Share", submit="Send", close="Cancel", parts=(picker,)
        )
    )
    html = modal_html(view, RENDER)
    assert "not shown" not in html
    assert (
        '<select id="bk-field-recipient" name="recipient" aria-describedby="bk-hint-recipient '
        'bk-error-recipient" required><option value="">Choose one</option>'
        '<option value="U0ANA">Ana Popescu</option><option value="U0BOB">Bob Stan</option></select>'
    ) in html


def test_menu_and_picker_answers_reach_listeners_as_slacks_view_submission_does() -> None:
    talk = talk_like_form()
    state = submission_state(talk, {"person": "mate:11"})
    assert state == {
        "person": {
            "person": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "Mate 11 (team mate)", "emoji": True},
                    "value": "mate:11",
                },
            }
        }
    }
    assert submitted_values({"state": {"values": state}}) == {"person": "mate:11"}  # what listeners read
    picker = PersonField(id="recipient", label="Who?", optional=True)
    share = form_view(Form(callback_id="c", title="t", submit="s", close="c", parts=(picker,)))
    chosen = submission_state(share, {"recipient": "U0BOB"}, people={"U0ANA", "U0BOB"})
    assert chosen == {"recipient": {"recipient": {"type": "users_select", "selected_user": "U0BOB"}}}
    assert submitted_values({"state": {"values": chosen}}) == {"recipient": "U0BOB"}
    unanswered = submission_state(share, {}, people={"U0ANA"})
    assert unanswered == {"recipient": {"recipient": {"type": "users_select", "selected_user": None}}}


@pytest.mark.parametrize(
    ("view", "values", "people", "error"),
    [
        (talk_like_form(), {"person": "mate:99"}, (), "not one of the choices"),
        (talk_like_form(), {}, (), "this field is required"),
        (
            form_view(
                Form(
                    callback_id="c",
                    title="t",
                    submit="s",
                    close="c",
                    parts=(PersonField(id="r", label="Who?"),),
                )
            ),
            {"r": "U0ZED"},
            ("U0ANA",),
            "nobody in this workspace",
        ),
    ],
    ids=["not a choice", "required", "not a person"],
)
def test_answers_slack_would_never_send_are_refused(
    view: dict[str, object], values: dict[str, str], people: tuple[str, ...], error: str
) -> None:
    with pytest.raises(InvalidInput, match=error):
        submission_state(view, values, people=people)


# --- the console's own words and emoji -----------------------------------------------------


def test_the_consoles_own_words_come_from_the_catalogue() -> None:
    cat = catalogue("en")
    view = form_view(
        Form(
            callback_id="c",
            title="t",
            submit="s",
            close="x",
            parts=(TextField(id="note", label="Note", optional=True),),
        )
    )
    html = modal_html({**view, "close": None}, RENDER)
    assert f"data-modal-close>{cat.t('console.blocks.close')}</button>" in html
    assert f'<span class="bk-optional">{cat.t("console.blocks.optional")}</span>' in html
    unknown = blocks_html([{"type": "rich_text"}], RENDER)
    assert cat.t("console.blocks.not_shown", kind="rich_text") in unknown


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (":tada: A customer wrote this", f"{TADA} A customer wrote this"),
        (
            ":raised_hands: <@U0ANA> sent kudos",
            f'{HANDS} <span class="mention">@Ana Popescu</span> sent kudos',
        ),
        ("*Kudos posted* :tada:", f"<strong>Kudos posted</strong> {TADA}"),
        ("typed \U0001f389 too", f"typed {TADA} too"),
        ("`:tada:` stays code", "<code>:tada:</code> stays code"),
        (":not_an_emoji: and 10:30:45", ":not_an_emoji: and 10:30:45"),
    ],
)
def test_emoji_codes_show_as_emoji(text: str, html: str) -> None:
    """As the pictures the console ships, the emoji as alt text: no font needed."""
    assert mrkdwn_html(text, NAMES) == html


def test_every_emoji_code_in_the_catalogue_shows_as_an_emoji() -> None:
    english = catalogue("en")
    texts = [text for key in sorted(english.keys()) for text in english.templates(key)]
    codes = {code for text in texts for code in re.findall(r":([a-z0-9_+-]+):", text)}
    assert codes, "the catalogue uses emoji codes; this test should see them"
    assert codes <= set(EMOJI), f"add these to blockkit_html.EMOJI: {sorted(codes - set(EMOJI))}"
    for code in codes:
        assert f":{code}:" not in mrkdwn_html(f"well done :{code}:", NAMES)
    static = Path(__file__).resolve().parents[2] / "handlers" / "sandbox" / "static" / "emoji"
    for name in EMOJI:
        assert (static / f"{name}.svg").read_text().lstrip().startswith("<svg"), f"ship emoji/{name}.svg"
