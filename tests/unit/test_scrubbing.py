"""The scrubbing catalogue: what a customer may write, in English, Romanian and Persian, and what
is left of it once personal data is replaced. Each row is one case; the function is pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from bot.compliments.scrubbing import Kind, fold, luhn_valid, probe, scrub
from bot.config import ProductSettings
from bot.i18n import catalogue


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    expected: str | None  # None: left exactly as written
    customer: str | None = None
    calendar: tuple[str, ...] = ()  # dates and times the case keeps on purpose


CATALOGUE = [
    # --- left alone: kind words, small numbers, dates, plain links ---
    Case("en-plain", "Ana was so patient with me, thank you!", "Ana was so patient with me, thank you!"),
    Case(
        "en-small-numbers-and-date",
        "I waited 20 minutes on 12.05.2024 and paid 1,250.00 lei, 5 stars",
        "I waited 20 minutes on 12.05.2024 and paid 1,250.00 lei, 5 stars",
    ),
    Case("en-plain-link", "The guide at https://example.com/help was great", None),
    Case("en-product-names", "My iPhone15 works again, COVID-19 rules explained", None),
    # --- phone numbers ---
    Case("en-phone-us", "Call me at (415) 555-2671 anytime", "Call me at [phone] anytime"),
    Case("en-phone-us-dashes", "or 415-555-2671 after six", "or [phone] after six"),
    Case("en-phone-uk", "My landline is 020 7946 0958.", "My landline is [phone]."),
    Case("en-phone-international", "Reach me on +44 20 7946 0958 please", "Reach me on [phone] please"),
    Case("de-phone", "Ruf mich an: 030 1234567, danke Ana", "Ruf mich an: [phone], danke Ana"),
    Case("fr-phone", "Rappelez-moi au 06 12 34 56 78 svp", "Rappelez-moi au [phone] svp"),
    Case("en-phone-split-pairs", "it is 07 22 12 34 56 thanks", "it is [phone] thanks"),
    Case("en-phone-every-digit-split", "0 7 2 2 1 2 3 4 5 6 is my mobile", "[phone] is my mobile"),
    Case("en-phone-dashed-odd", "call 0722-12-34-56 later", "call [phone] later"),
    # --- e-mail addresses and links with query strings ---
    Case("en-email", "Write to jo.bloggs+cc@example.co.uk if needed", "Write to [email] if needed"),
    Case(
        "en-link-query", "My order https://shop.example.com/o?id=991&t=abc arrived", "My order [link] arrived"
    ),
    Case("en-bare-link-query", "reset at shop.example.com/reset?token=abc worked", "reset at [link] worked"),
    Case("en-link-fragment", "see http://example.com/account#user=jo ok", "see [link] ok"),
    # --- cards (Luhn-valid only) and account / order numbers ---
    Case("en-card-spaces", "My card 4111 1111 1111 1111 was blocked", "My card [card] was blocked"),
    Case("en-card-dashes", "card 5500-0000-0000-0004, fixed", "card [card], fixed"),
    Case("en-card-plain", "amex 378282246310005 works", "amex [card] works"),
    Case("en-not-a-card", "ticket 1234 5678 9012 3456 closed", "ticket [number] closed"),
    Case("en-order-hash", "order #48213 arrived", "order [number] arrived"),
    Case("en-account", "account 99812345 is sorted", "account [number] is sorted"),
    Case("en-mixed-ids", "ref AB12345 and INV-2024-0017 done", "ref [number] and [number] done"),
    Case("en-split-account", "policy 123 456 789 renewed", "policy [phone] renewed"),
    # six digits are a number whether typed "482139", "482 139" or "482-139"
    Case("en-six-digits-dash", "order 482-139 arrived", "order [number] arrived"),
    Case("en-six-digits-space", "ticket 482 139 is solved", "ticket [number] is solved"),
    Case("en-six-digits-pairs", "booking 48-21-39 changed", "booking [number] changed"),
    # ... but dates and times stay, however they are split
    Case(
        "en-date-and-time",
        "On 12/05/2024 10:30 Ana called back, 2024-05-13 14:05 too",
        None,
        calendar=("12/05/2024 10:30", "2024-05-13 14:05"),
    ),
    Case(
        "en-times-and-ranges",
        "open 09.00 - 17.30, from 12.05-14.05 and 2019-2024",
        None,
        calendar=("09.00 - 17.30", "12.05-14.05", "2019-2024"),
    ),
    Case(
        "en-bare-domain-query",
        "Found you via example.com?ref=jo thanks",
        "Found you via [link] thanks",
    ),
    Case("en-bare-domain-fragment", "see shop.example.co.uk#order=77 ok", "see [link] ok"),
    Case("en-question-after-a-full-stop", "It worked.Really? Yes, thanks Ana", None),
    # --- the customer's own name (from the payload) ---
    Case(
        "en-customer-name",
        "Jo Bloggs here: Ana helped me. Regards, JO BLOGGS",
        "[customer] here: Ana helped me. Regards, [customer]",
        customer="Jo Bloggs",
    ),
    Case(
        "en-customer-surname-alone",
        "Mrs Bloggs is very happy with Ana",
        "Mrs [customer] is very happy with Ana",
        customer="Jo Bloggs",
    ),
    Case(
        "en-agent-name-kept",
        "Ana Smith, customer: Ana was lovely",
        "[customer], customer: Ana was lovely",
        customer="Ana Smith",
    ),
    # --- Romanian ---
    Case(
        "ro-phone-and-name",
        "Mulțumesc, sunt Ștefan Ionescu. Ana a fost minunată! Sunați-mă la 0722-123-456.",
        "Mulțumesc, sunt [customer]. Ana a fost minunată! Sunați-mă la [phone].",
        customer="Stefan Ionescu",
    ),
    Case("ro-phone-intl", "numărul meu: +40 722 123 456", "numărul meu: [phone]"),
    Case(
        "ro-invoice-date-amount",
        "Ana m-a ajutat cu factura 20240517 din 12.05.2024, am plătit 120 lei",
        "Ana m-a ajutat cu factura [number] din 12.05.2024, am plătit 120 lei",
    ),
    Case("ro-email", "scrieți-mi pe ion.popescu@exemplu.ro, mersi", "scrieți-mi pe [email], mersi"),
    Case("ro-split-landline", "fix: 021 312 34 56", "fix: [phone]"),
    Case("ro-six-digits-split", "comanda 482 139 a ajuns, mersi", "comanda [number] a ajuns, mersi"),
    Case(
        "ro-date-time-kept",
        "pe 12-05-2024 la 14:30 Ana m-a sunat",
        None,
        calendar=("12-05-2024",),
    ),
    Case(
        "ro-bare-domain-query",
        "am comandat pe magazin.ro?cod=ana7 totul bine",
        "am comandat pe [link] totul bine",
    ),
    # --- Persian (Persian and Arabic-Indic digits) ---
    Case(
        "fa-phone-persian-digits",
        "از خانم آنا بسیار ممنونم. شماره من ۰۹۱۲ ۳۴۵ ۶۷۸۹ است",
        "از خانم آنا بسیار ممنونم. شماره من [phone] است",
    ),
    Case("fa-card-persian-digits", "شماره کارت من ۴۱۱۱ ۱۱۱۱ ۱۱۱۱ ۱۱۱۱ بود", "شماره کارت من [card] بود"),
    Case("fa-arabic-indic-digits", "تلفن: ٠٧٢٢١٢٣٤٥٦", "تلفن: [phone]"),
    Case("fa-split-with-dashes", "شماره: ۰۹۱۲-۳۴۵-۶۷۸۹ لطفا", "شماره: [phone] لطفا"),
    Case(
        "fa-customer-name",
        "رضا احمدی هستم، آنا عالی بود",
        "[customer] هستم، آنا عالی بود",
        customer="رضا احمدی",
    ),
    Case("fa-order-number", "سفارش ۸۸۴۲۱۳۷ رسید، ممنون", "سفارش [number] رسید، ممنون"),
    Case("fa-kind-words", "آنا خیلی صبور بود، ۵ ستاره", "آنا خیلی صبور بود، ۵ ستاره"),
    Case("fa-six-digits-dash", "سفارش ۴۸۲-۱۳۹ رسید", "سفارش [number] رسید"),
    Case("fa-six-digits-space", "کد پیگیری ۴۸۲ ۱۳۹ است", "کد پیگیری [number] است"),
    Case(
        "fa-solar-hijri-date",
        "تاریخ ۱۴۰۳-۰۲-۲۳ ساعت ۱۰:۳۰ تماس گرفتم",
        None,
        calendar=("1403-02-23",),
    ),
    Case("fa-bare-domain-query", "از سایت shop.ir?ref=reza خرید کردم", "از سایت [link] خرید کردم"),
    # Arabic ي and ك are the same letters as Persian ی and ک, whichever keyboard typed them.
    Case(
        "fa-name-arabic-letters-in-text",
        "علي كريمي هستم، از آنا ممنونم",
        "[customer] هستم، از آنا ممنونم",
        customer="علی کریمی",
    ),
    Case(
        "fa-name-arabic-letters-in-payload",
        "سلام، علی کریمی هستم. آنا عالی بود",
        "سلام، [customer] هستم. آنا عالی بود",
        customer="علي كريمي",
    ),
]


@pytest.mark.parametrize("case", CATALOGUE, ids=lambda c: c.id)
def test_scrubbing_catalogue(case: Case) -> None:
    expected = case.text if case.expected is None else case.expected
    assert scrub(case.text, customer_name=case.customer, keep=("Ana",)).text == expected


def test_no_long_digit_run_or_address_survives_in_any_case() -> None:
    for case in CATALOGUE:
        result = probe(scrub(case.text, customer_name=case.customer, keep=("Ana",)).text)
        for kept in case.calendar:
            assert kept in result, (case.id, kept)
            result = result.replace(kept, "")
        runs = re.findall(r"\d(?:[ -]?\d)*", result)  # split by spaces or dashes
        assert all(len(re.sub(r"\D", "", run)) < 6 for run in runs), (case.id, result)
        assert "@" not in result, case.id


def test_placeholders_come_from_the_catalogue() -> None:
    cat = catalogue("en")
    placeholders = {kind: cat.t(f"compliment.placeholder.{kind.value}") for kind in Kind}
    result = scrub("call 0722 123 456 or mail a@b.ro", placeholders=placeholders)
    assert result.text == f"call {placeholders[Kind.PHONE]} or mail {placeholders[Kind.EMAIL]}"
    assert result.found == (Kind.EMAIL, Kind.PHONE)


def test_regions_decide_which_national_formats_are_phone_numbers() -> None:
    text = "sunați la 0722 123 456"
    assert scrub(text, regions=("RO",)).text == "sunați la [phone]"
    # Without Romania the number is still caught by the split-digits pass, never left readable.
    assert "0722" not in scrub(text, regions=("US",)).text


def test_the_probe_keeps_every_index() -> None:
    text = "شماره ۰۹۱۲\u200c۳۴۵ – Ștefan"
    assert len(probe(text)) == len(text) == len(fold(text))
    assert probe(text) == "شماره 0912 345 - Ștefan"
    assert fold("Ștefan Mulțumesc")[:6] == "Stefan"


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True), ("0", True)],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


def test_phone_regions_are_checked_and_normalised_in_the_settings() -> None:
    assert ProductSettings(phone_regions=["ro", " gb"]).phone_regions == ["RO", "GB"]
    with pytest.raises(ValidationError, match="XX"):
        ProductSettings(phone_regions=["XX"])
