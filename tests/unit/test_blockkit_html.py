"""Block Kit as the console shows it: what Breather sends is readable, and nothing is executable."""

from __future__ import annotations

import pytest

from bot.checkins.messages import checkin_prompt
from bot.i18n import catalogue
from bot.messenger import ChoiceField, Form, Option, TextField
from handlers.sandbox.blockkit_html import blocks_html, modal_html, mrkdwn_html
from handlers.slack.blocks import form_view, message_blocks

NAMES = {"U0ANA": "Ana Popescu"}


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
    html = blocks_html(message_blocks(message), NAMES)
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
    html = blocks_html(blocks, NAMES)
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
    html = blocks_html(blocks, NAMES)
    assert '<h3 class="bk-header">Your week</h3><hr class="bk-divider">' in html
    assert "<div><strong>Calls</strong><br>812</div><div>*raw*</div>" in html
    assert '<img class="bk-image-img" src="/charts/1.png" alt="Calls per day" loading="lazy">' in html
    assert "<figcaption>Load</figcaption>" in html


def test_images_from_script_urls_show_their_alt_text_instead() -> None:
    html = blocks_html([{"type": "image", "image_url": "javascript:alert(1)", "alt_text": "A chart"}], NAMES)
    assert "<img" not in html and "A chart" in html


def test_unknown_blocks_are_shown_as_a_placeholder_not_dropped() -> None:
    html = blocks_html([{"type": "rich_text", "elements": []}], NAMES)
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
    assert "bk-unsupported" in blocks_html(view["blocks"], NAMES)  # an input outside a form
    html = modal_html(view, NAMES)
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
