#!/usr/bin/env python3
"""Generate a labelled corpus of real-world-format PII for measuring the scrubber.

What it generates: JSON Lines, one object per line,
``{"text": str, "spans": [{"start": int, "end": int, "category": str}],
"locale": str, "kind": "pii" | "negative"}``. ``kind: "pii"`` texts are short
sentences (or small JSON documents) that embed values drawn from the Faker
package across many locales, in the six categories ``phone`` (every locale's
``phone_number()``, plus E.164 / MSISDN forms), ``card`` (every card type of the
installed Faker, plain and grouped with spaces or dashes), ``ip`` (IPv4 public and
private, IPv6 full, compressed and IPv4-embedded), ``iban`` (locales with a real
IBAN provider; compact, lower case and grouped), ``email`` and ``ssn`` (en_US). A
few texts hold two values. ``kind: "negative"`` texts hold no PII but look like it
(dates, times, timestamps, versions, postcodes, prices, order ids, UUIDs, hashes,
MAC addresses, ISBNs, EANs, licence plates, ...) and have no spans; any negative
that happens to contain a Luhn-valid card-prefixed digit run, an E.164 or NANP
phone shape, an SSN shape, an e-mail, a valid IP or a mod-97-valid IBAN is
dropped. Span offsets are **byte offsets into the UTF-8 encoding of ``text``**
(half-open ``[start, end)``), so ``text.encode()[start:end].decode()`` is exactly
the planted value; spans are sorted and never overlap.

The output is deterministic (Faker seeded per locale and purpose from a fixed
seed, no clock-relative providers, TZ forced to UTC): the same Faker version
writes a byte-identical file. Run it through ``scripts/pii-corpus.sh OUT_FILE``,
which installs the pinned Faker into a private virtualenv.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import ipaddress
import json
import logging
import os
import random
import re
import sys
import time
from datetime import date, datetime, timedelta, timezone

os.environ["TZ"] = "UTC"
time.tzset()

import faker  # noqa: E402
from faker import Faker  # noqa: E402

SEED = 0x5EED_C0DE

# Locales the brief asks for (nb_NO is spelled no_NO in Faker) plus a few more.
CORE_LOCALES = [
    "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "pl_PL",
    "sv_SE", "da_DK", "fi_FI", "ja_JP", "zh_CN", "en_AU", "en_IN", "fr_CA", "no_NO",
    "cs_CZ", "tr_TR",
]
EXTRA_PHONE_LOCALES = [
    "de_AT", "de_CH", "pt_PT", "en_CA", "en_NZ", "ko_KR", "ru_RU", "ro_RO", "hu_HU",
    "el_GR", "uk_UA", "he_IL", "nl_BE", "sk_SK", "id_ID", "vi_VN", "th_TH", "hr_HR",
]

# Country calling codes for the locales whose national numbers we turn into E.164.
CALLING_CODES = {
    "en_US": "1", "en_CA": "1", "en_GB": "44", "de_DE": "49", "fr_FR": "33",
    "es_ES": "34", "it_IT": "39", "nl_NL": "31", "pl_PL": "48", "sv_SE": "46",
    "da_DK": "45", "fi_FI": "358", "ja_JP": "81", "zh_CN": "86", "en_AU": "61",
    "en_IN": "91", "no_NO": "47", "cs_CZ": "420", "tr_TR": "90", "de_AT": "43",
    "de_CH": "41", "ko_KR": "82", "ro_RO": "40", "sk_SK": "421",
}

# ISO 13616 IBAN lengths for the countries Faker's bank providers produce.
IBAN_LENGTHS = {
    "AT": 20, "AZ": 28, "BE": 16, "BR": 29, "CH": 21, "CZ": 24, "DE": 22, "DK": 18,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "IE": 22, "IR": 26, "IT": 27,
    "MK": 19, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "RU": 33, "SK": 24,
    "TR": 26, "UA": 29,
}
# Locales with their own bank provider whose IBAN country is their own.
IBAN_LOCALES = [
    "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pt_BR", "pl_PL", "da_DK",
    "fi_FI", "no_NO", "cs_CZ", "tr_TR", "de_AT", "de_CH", "fr_CH", "it_CH", "en_IE",
    "nl_BE", "pt_PT", "ro_RO", "sk_SK", "el_GR", "uk_UA", "az_AZ", "mk_MK", "ru_RU",
    "fa_IR",
]

EMAIL_LOCALES = CORE_LOCALES + ["ru_RU", "el_GR", "ko_KR", "pt_PT", "hu_HU", "uk_UA"]

PHONE_KEYS = ["phone", "mobile", "tel", "phoneNumber", "contact_phone"]

# --------------------------------------------------------------------------- helpers


def derive_seed(*parts: object) -> int:
    h = hashlib.sha256(("|".join(str(p) for p in (SEED,) + parts)).encode()).digest()
    return int.from_bytes(h[:8], "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(derive_seed(*parts))


_FAKERS: dict[tuple[str, str], Faker] = {}


def faker_for(locale: str, purpose: str) -> Faker:
    """A Faker for one locale and one purpose, seeded from (SEED, locale, purpose)."""
    key = (locale, purpose)
    f = _FAKERS.get(key)
    if f is None:
        f = Faker(locale)
        f.seed_instance(derive_seed("faker", locale, purpose))
        _FAKERS[key] = f
    return f


def provider_locale(f: Faker, family: str) -> str:
    """Which locale's provider module of `family` (e.g. "bank") a Faker uses."""
    for p in f.providers:
        mod = type(p).__module__
        if mod.startswith(f"faker.providers.{family}"):
            tail = mod[len(f"faker.providers.{family}"):].lstrip(".")
            return tail or "default"
    return "none"


class Corpus:
    def __init__(self) -> None:
        self.records: list[dict] = []

    def add(self, segments: list, locale: str, kind: str = "pii") -> None:
        """segments: plain strings, or (value, category) tuples that become spans."""
        text_parts: list[str] = []
        spans = []
        pos = 0
        for seg in segments:
            if isinstance(seg, tuple):
                value, cat = seg
                assert value and value == value.strip(), (value, cat)
                b = value.encode("utf-8")
                spans.append({"start": pos, "end": pos + len(b), "category": cat})
                text_parts.append(value)
                pos += len(b)
            else:
                text_parts.append(seg)
                pos += len(seg.encode("utf-8"))
        text = "".join(text_parts)
        b = text.encode("utf-8")
        for s, seg in zip(spans, [x for x in segments if isinstance(x, tuple)]):
            assert b[s["start"]:s["end"]].decode("utf-8") == seg[0], (text, seg)
        assert kind == "pii" or not spans
        self.records.append({"text": text, "spans": spans, "locale": locale, "kind": kind})


def sentence(template: str, value: str, cat: str) -> list:
    pre, post = template.split("{v}")
    return [pre, (value, cat), post]


SENTINEL = "\u2063VALUE\u2063"


def json_doc(obj: object, value: str, cat: str) -> list:
    """obj holds SENTINEL exactly once where the value goes."""
    if json.dumps(value, ensure_ascii=False) != f'"{value}"':
        raise ValueError(f"value needs JSON escaping: {value!r}")
    text = json.dumps(obj, ensure_ascii=False)
    pre, post = text.split(SENTINEL)
    return [pre, (value, cat), post]


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "").upper()
    if IBAN_LENGTHS.get(s[:2]) != len(s) or not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", s):
        return False
    r = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in r)) % 97 == 1


def group(value: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for n in sizes:
        out.append(value[i:i + n])
        i += n
    if i < len(value):
        out.append(value[i:])
    return sep.join(p for p in out if p)


# ------------------------------------------------------------------------ phones

PHONE_SENTENCES = [
    "Call me at {v}.",
    "Tel: {v}",
    "mobile {v}",
    "Please ring {v} after 6pm.",
    "Phone: {v} (office)",
    "You can reach the driver on {v}.",
    "Contact number \u2014 {v}",
    "WhatsApp: {v}",
    "Customer phone: \u201c{v}\u201d",
    "Emergency contact: {v}, ask for the duty manager.",
    "If the courier can't find you they will call {v}",
    "New phone number is {v}, please update your records.",
]


def phone_json(rng: random.Random, f: Faker, value: str) -> list:
    key = rng.choice(PHONE_KEYS)
    shape = rng.randrange(4)
    if shape == 0:
        obj = {key: SENTINEL}
    elif shape == 1:
        obj = {"id": rng.randrange(1, 99999), key: SENTINEL, "verified": rng.random() < 0.5}
    elif shape == 2:
        obj = {"user": {"name": f.name(), key: SENTINEL}}
    else:
        obj = {"contacts": [{"type": "work", key: SENTINEL}]}
    return json_doc(obj, value, "phone")


def embed_phone(c: Corpus, rng: random.Random, f: Faker, locale: str, value: str,
                e164: bool = False) -> None:
    if rng.random() < 1 / 3:
        c.add(phone_json(rng, f, value), locale)
    elif e164 and rng.random() < 0.25:
        c.add(sentence("Dial tel:{v} for support", value, "phone"), locale)
    else:
        c.add(sentence(rng.choice(PHONE_SENTENCES), value, "phone"), locale)


def to_e164(locale: str, national: str) -> str | None:
    cc = CALLING_CODES[locale]
    v = national.replace("(0)", "")
    digits = re.sub(r"\D", "", v)
    if v.lstrip().startswith("+") or v.lstrip("(").startswith("+"):
        if not digits.startswith(cc):
            return None
        rest = digits[len(cc):]
    elif digits.startswith("00" + cc):
        rest = digits[2 + len(cc):]
    elif cc == "1" and len(digits) == 11 and digits.startswith("1"):
        rest = digits[1:]
    else:
        rest = digits
    if locale != "it_IT":  # Italy keeps the leading 0 of landlines in E.164.
        rest = rest.lstrip("0")
    full = cc + rest
    if not 8 <= len(full) <= 15:
        return None
    return "+" + full


def gen_phones(c: Corpus, stats: dict) -> None:
    per_locale = 16
    skipped_ext = 0
    fallbacks = {}
    for locale in CORE_LOCALES + EXTRA_PHONE_LOCALES:
        f = faker_for(locale, "phone")
        rng = rng_for("phone", locale)
        prov = provider_locale(f, "phone_number")
        if prov != locale:
            fallbacks[locale] = prov
        n = 0
        while n < per_locale:
            v = f.phone_number()
            if re.search(r"x|ext", v, re.I):
                skipped_ext += 1  # extensions: no single right span, redraw
                continue
            embed_phone(c, rng, f, locale, v)
            n += 1
        if locale in CALLING_CODES:
            n = 0
            while n < 4:
                v = f.phone_number()
                if re.search(r"x|ext", v, re.I):
                    skipped_ext += 1
                    continue
                e = to_e164(locale, v)
                if e is None:
                    continue
                embed_phone(c, rng, f, locale, e, e164=True)
                n += 1
    # pt_BR is the locale whose msisdn() is a real MSISDN (55 + area + 9 + 8 digits).
    f = faker_for("pt_BR", "msisdn")
    rng = rng_for("msisdn", "pt_BR")
    for i in range(24):
        m = f.msisdn()
        embed_phone(c, rng, f, "pt_BR", "+" + m if i % 2 else m, e164=i % 2 == 1)
    stats["phone_extensions_redrawn"] = skipped_ext
    stats["phone_provider_fallbacks"] = fallbacks


# -------------------------------------------------------------------------- cards

CARD_SENTENCES = [
    "Card number: {v}",
    "Charged card {v} exp 04/29.",
    "PAN {v}",
    "Please update the card on file to {v}.",
    "Payment declined for {v}, try another card.",
    "cc={v}&amount=19.99",
    "Your card \u2022 {v} \u2022 has been saved.",
]
CARD_KEYS = ["card_number", "pan", "cc", "cardNumber", "payment_card"]

# Issuer groupings: by type name, then by length.
CARD_GROUPS_BY_TYPE = {
    "amex": [4, 6, 5],
    "diners": [4, 6, 4],
    "jcb15": [4, 6, 5],
}
CARD_GROUPS_BY_LEN = {
    12: [4, 4, 4],
    13: [4, 4, 5],
    14: [4, 6, 4],
    15: [4, 6, 5],
    16: [4, 4, 4, 4],
    19: [4, 4, 4, 4, 3],
}

# Extra real-world prefixes for the lookalike filter on negatives.
EXTRA_CARD_PREFIXES = ["4", "2", "34", "37", "35", "36", "30", "38", "39", "50", "56", "57",
                       "58", "6", "1800", "2131", "9"]


def card_types(f: Faker) -> dict:
    for p in f.providers:
        if type(p).__module__.startswith("faker.providers.credit_card"):
            return p.credit_card_types
    raise RuntimeError("no credit_card provider")


def format_card(rng: random.Random, ctype: str, number: str) -> str:
    style = rng.randrange(3)
    if style == 0:
        return number
    sizes = CARD_GROUPS_BY_TYPE.get(ctype) or CARD_GROUPS_BY_LEN.get(len(number), [4] * 5)
    return group(number, sizes, " " if style == 1 else "-")


def embed_card(c: Corpus, rng: random.Random, locale: str, v: str) -> None:
    if rng.random() < 0.25:
        c.add(json_doc({rng.choice(CARD_KEYS): SENTINEL, "exp": "08/28"}, v, "card"), locale)
    else:
        c.add(sentence(rng.choice(CARD_SENTENCES), v, "card"), locale)


def gen_cards(c: Corpus, stats: dict) -> None:
    f = faker_for("en_US", "card")
    rng = rng_for("card", "en_US")
    types = card_types(f)
    # visa/jcb are aliases of visa16/jcb16: use distinct definitions once.
    seen = {}
    for name, ct in types.items():
        seen.setdefault((tuple(ct.prefixes), ct.length), name)
    distinct = list(seen.values())
    stats["card_types_default"] = distinct
    for name in distinct:
        for _ in range(40):
            embed_card(c, rng, "en_US", format_card(rng, name, f.credit_card_number(name)))
    local = {}
    for locale, n in [("ru_RU", 6), ("uk_UA", 6), ("zh_CN", 8), ("pt_PT", 6), ("fa_IR", 1)]:
        f = faker_for(locale, "card")
        rng = rng_for("card", locale)
        types_ = card_types(f)
        names = list(types_)
        local[locale] = names
        total = 32 if locale == "fa_IR" else None
        picks = [rng.choice(names) for _ in range(total)] if total else [x for x in names for _ in range(n)]
        for name in picks:
            num = f.credit_card_number(name)
            assert luhn_ok(num), (locale, name, num)
            assert types_[name].length == len(num)
            embed_card(c, rng, locale, format_card(rng, name, num))
    stats["card_types_locale"] = local


def card_prefixes() -> list[str]:
    out = set(EXTRA_CARD_PREFIXES)
    for locale in ["en_US", "ru_RU", "uk_UA", "zh_CN", "pt_PT", "fa_IR"]:
        for ct in card_types(faker_for(locale, "card")).values():
            for p in ct.prefixes:
                out.add(re.split(r"[#%]", p)[0] or p)
    return sorted(p for p in out if p)


# ----------------------------------------------------------------------------- ip

IP_SENTENCES = [
    "Client IP {v}",
    "Request from {v} was blocked by the WAF.",
    "X-Forwarded-For: {v}",
    "Login from {v} at 14:02 UTC",
    "ping {v}",
    "Allowlisted address: {v}",
    "Last seen at {v} \u2192 rerouted",
]
IP_KEYS = ["ip", "client_ip", "remote_addr", "source_ip", "ipAddress"]


def gen_ips(c: Corpus, stats: dict) -> None:
    f = faker_for("en_US", "ip")
    rng = rng_for("ip")
    values: list[tuple[str, int]] = []
    for _ in range(120):
        values.append((f.ipv4_public(), 4))
    for _ in range(80):
        values.append((f.ipv4_private(), 4))
    for _ in range(110):
        v = f.ipv6()
        values.append((v.upper() if rng.random() < 0.15 else v, 6))
    # compressed forms, built by hand
    for _ in range(40):
        a = ipaddress.IPv6Address((0x20010DB8 << 96) | rng.getrandbits(rng.choice([8, 16, 32, 48])))
        values.append((str(a), 6))
    for _ in range(40):
        iid = rng.getrandbits(64)
        values.append((str(ipaddress.IPv6Address((0xFE80 << 112) | iid)), 6))
    for _ in range(30):
        # global unicast with a zero run in the middle
        hi = rng.getrandbits(45) | (1 << 45)  # 2000::/3, the global unicast range
        lo = rng.getrandbits(16)
        values.append((str(ipaddress.IPv6Address((hi << 80) | lo)), 6))
    values.append(("2001:db8::1", 6))
    values.append(("fe80::1ff:fe23:4567:890a", 6))
    values.append(("::ffff:192.0.2.128", 6))
    values.append(("64:ff9b::192.0.2.33", 6))
    for _ in range(40):
        values.append(("::ffff:" + f.ipv4_public(), 6))
    for _ in range(30):
        values.append(("64:ff9b::" + f.ipv4_public(), 6))
    for v, fam in values:
        ipaddress.ip_address(v)  # must parse
        r = rng.random()
        if r < 0.25:
            c.add(json_doc({rng.choice(IP_KEYS): SENTINEL, "status": 200}, v, "ip"), "und")
        elif r < 0.4:
            if fam == 4:
                c.add(["GET http://", (v, "ip"), f":{rng.choice([80, 8080, 8443])}/health -> 200"], "und")
            else:
                c.add(["GET http://[", (v, "ip"), "]:8443/health -> 200"], "und")
        else:
            c.add(sentence(rng.choice(IP_SENTENCES), v, "ip"), "und")
    stats["ip_v4"] = sum(1 for _, fam in values if fam == 4)
    stats["ip_v6"] = sum(1 for _, fam in values if fam == 6)


# --------------------------------------------------------------------------- iban

IBAN_SENTENCES = [
    "IBAN: {v}",
    "Please transfer the deposit to {v} by Friday.",
    "Refund sent to account {v}.",
    "Beneficiary account {v} (SEPA)",
    "Payout IBAN changed to {v}",
]


def gen_ibans(c: Corpus, stats: dict) -> None:
    used, invalid = [], {}
    for locale in IBAN_LOCALES:
        f = faker_for(locale, "iban")
        rng = rng_for("iban", locale)
        prov = provider_locale(f, "bank")
        country = f.bank_country()
        probe = f.iban()
        if prov != locale or not iban_ok(probe):
            invalid[locale] = f"{prov}:{probe}"
            continue
        used.append(locale)
        for i in range(18):
            v = f.iban()
            if not iban_ok(v):
                invalid.setdefault(locale, v)
                continue
            assert v.startswith(country)
            style = i % 4
            if style == 1:
                v = v.lower()
            elif style == 2:
                v = group(v, [4] * 9, " ")
            elif style == 3 and rng.random() < 0.5:
                v = group(v, [4] * 9, " ").lower()
            if rng.random() < 0.25:
                c.add(json_doc({"iban": SENTINEL, "currency": "EUR"}, v, "iban"), locale)
            else:
                c.add(sentence(rng.choice(IBAN_SENTENCES), v, "iban"), locale)
    stats["iban_locales"] = used
    stats["iban_rejected"] = invalid


# -------------------------------------------------------------------------- email

EMAIL_SENTENCES = [
    "Email: {v}",
    "Send the invoice to {v}.",
    "mailto:{v}",
    "Reply-To: {v}",
    "Account {v} was locked after 5 failed logins",
    "cc: \u00ab{v}\u00bb",
]


def gen_emails(c: Corpus, stats: dict) -> None:
    for locale in EMAIL_LOCALES:
        f = faker_for(locale, "email")
        rng = rng_for("email", locale)
        for i in range(18):
            v = [f.email, f.free_email, f.company_email][i % 3]()
            r = rng.random()
            if r < 0.25:
                c.add(json_doc({"name": f.name(), "email": SENTINEL}, v, "email"), locale)
            elif r < 0.45:
                c.add([f"From: {f.name()} <", (v, "email"), ">"], locale)
            else:
                c.add(sentence(rng.choice(EMAIL_SENTENCES), v, "email"), locale)


# ---------------------------------------------------------------------------- ssn

SSN_SENTENCES = [
    "SSN: {v}",
    "Social Security Number {v}",
    "ssn={v}&dob=1984-02-11",
    "Employee record 12: {v}",
    "The applicant's SSN is {v}.",
]


def gen_ssns(c: Corpus, stats: dict) -> None:
    f = faker_for("en_US", "ssn")
    rng = rng_for("ssn")
    for _ in range(420):
        v = f.ssn()
        if rng.random() < 0.25:
            c.add(json_doc({"ssn": SENTINEL, "state": f.state_abbr()}, v, "ssn"), "en_US")
        else:
            c.add(sentence(rng.choice(SSN_SENTENCES), v, "ssn"), "en_US")


# -------------------------------------------------------------------------- mixed


def gen_mixed(c: Corpus, stats: dict) -> None:
    rng = rng_for("mixed")
    for i in range(100):
        locale = CORE_LOCALES[i % len(CORE_LOCALES)]
        f = faker_for(locale, "mixed")
        phone = f.phone_number()
        while re.search(r"x|ext", phone, re.I):
            phone = f.phone_number()
        email = f.email()
        ip = faker_for("en_US", "mixed").ipv4_public()
        shape = i % 3
        if shape == 0:
            c.add(["Contact ", (email, "email"), " or call ", (phone, "phone"), "."], locale)
        elif shape == 1:
            c.add([f"{f.name()} \u2014 ", (phone, "phone"), " \u2014 ", (email, "email")], locale)
        else:
            c.add(["User ", (email, "email"), " signed in from ", (ip, "ip"), "."], locale)


# ---------------------------------------------------------------------- negatives

T0 = datetime(1995, 1, 1, tzinfo=timezone.utc)
T1 = datetime(2030, 12, 31, tzinfo=timezone.utc)
NEG_LOCALES = CORE_LOCALES + ["de_AT", "de_CH", "pt_PT", "en_CA", "ru_RU", "ko_KR", "el_GR"]


def neg_values(stats: dict):
    """Yield (value, locale, kind-of-value)."""
    rng = rng_for("neg")
    f = faker_for("en_US", "neg")
    # dates in many formats
    date_formats = ["%Y-%m-%d", "%d.%m.%Y", "%m/%d/%Y", "%d/%m/%Y", "%d %B %Y", "%b %d, %Y",
                    "%Y%m%d", "%d-%b-%Y", "%Y/%m/%d", "%A, %d %B %Y"]
    for i in range(150):
        locale = NEG_LOCALES[i % len(NEG_LOCALES)]
        lf = faker_for(locale, "neg")
        yield lf.date(pattern=date_formats[i % len(date_formats)], end_datetime=T1), locale, "date"
    for _ in range(40):
        d = date(2000, 1, 1) + timedelta(days=rng.randrange(11000))
        yield d.isoformat(), "und", "date"
    # times
    for _ in range(70):
        h, m, s = rng.randrange(24), rng.randrange(60), rng.randrange(60)
        yield rng.choice([f"{h:02d}:{m:02d}", f"{h:02d}:{m:02d}:{s:02d}",
                          f"{(h % 12) or 12}:{m:02d} {'AM' if h < 12 else 'PM'}",
                          f"{h}h{m:02d}", f"{h:02d}:{m:02d}:{s:02d}.{rng.randrange(1000):03d}"]), "und", "time"
    # ISO timestamps
    for _ in range(90):
        dt = f.date_time_between(start_date=T0, end_date=T1, tzinfo=timezone.utc)
        off = rng.choice(["Z", "+00:00", "+01:00", "-05:00", "+05:30", "+09:00"])
        frac = rng.choice(["", f".{rng.randrange(1000):03d}", f".{rng.randrange(10**6):06d}"])
        yield dt.strftime("%Y-%m-%dT%H:%M:%S") + frac + off, "und", "timestamp"
    for _ in range(30):
        yield str(rng.randrange(946684800, 1924991999)), "und", "unix_time"
    for _ in range(20):
        yield str(rng.randrange(946684800000, 1924991999999)), "und", "unix_time_ms"
    # versions
    for _ in range(80):
        r = rng.randrange(5)
        if r == 0:
            v = f"{rng.randrange(10)}.{rng.randrange(30)}.{rng.randrange(50)}"
        elif r == 1:
            v = f"v{rng.randrange(4)}.{rng.randrange(20)}.{rng.randrange(20)}-rc.{rng.randrange(1, 5)}"
        elif r == 2:
            v = f"10.0.{rng.randrange(10000, 26000)}"
        elif r == 3:
            v = f"10.0.{rng.randrange(17000, 23000)}.{rng.randrange(1000, 5000)}"
        else:
            v = f"{rng.randrange(1, 3)}.{rng.randrange(10)}.{rng.randrange(10)}+build.{rng.randrange(1000)}"
        yield v, "und", "version"
    # postcodes
    for i in range(140):
        locale = NEG_LOCALES[i % len(NEG_LOCALES)]
        yield faker_for(locale, "neg").postcode(), locale, "postcode"
    # prices
    for i in range(90):
        locale = NEG_LOCALES[i % len(NEG_LOCALES)]
        yield faker_for(locale, "neg").pricetag(), locale, "price"
    # order / invoice ids
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    for _ in range(90):
        r = rng.randrange(5)
        if r == 0:
            v = f"INV-{rng.randrange(2015, 2031)}-{rng.randrange(10**6):06d}"
        elif r == 1:
            v = "ord_" + "".join(rng.choice(alnum) for _ in range(14))
        elif r == 2:
            v = f"PO-{rng.randrange(10000, 99999)}"
        elif r == 3:
            v = f"#{rng.randrange(100000, 9999999)}"
        else:
            v = "cus_" + "".join(rng.choice(alnum) for _ in range(14))
        yield v, "und", "order_id"
    # uuids, hashes
    for _ in range(60):
        yield f.uuid4(), "und", "uuid"
    for _ in range(40):
        yield f.sha1(), "und", "git_sha"
    for _ in range(30):
        yield f.sha1()[:rng.choice([7, 8, 10, 12])], "und", "git_short_sha"
    for _ in range(30):
        yield f.md5(), "und", "md5"
    for _ in range(30):
        yield f.sha256(), "und", "sha256"
    # MAC addresses
    for _ in range(60):
        m = f.mac_address()
        r = rng.randrange(3)
        if r == 1:
            m = m.upper().replace(":", "-")
        elif r == 2:
            m = m.replace(":", "")
            m = f"{m[0:4]}.{m[4:8]}.{m[8:12]}"
        yield m, "und", "mac"
    # short numbers
    for _ in range(60):
        yield str(rng.choice([rng.randrange(10), rng.randrange(100), rng.randrange(10000),
                              rng.randrange(10**6)])), "und", "short_number"
    # isbn / ean
    for _ in range(40):
        yield f.isbn13(), "und", "isbn13"
    for _ in range(20):
        yield f.isbn10(), "und", "isbn10"
    for _ in range(25):
        yield f.isbn13().replace("-", ""), "und", "isbn13_plain"
    for _ in range(60):
        yield f.ean13(), "und", "ean13"
    for _ in range(20):
        yield f.ean8(), "und", "ean8"
    # licence plates
    for i in range(80):
        locale = NEG_LOCALES[i % len(NEG_LOCALES)]
        yield faker_for(locale, "neg").license_plate(), locale, "license_plate"
    # miscellaneous number-ish things
    for _ in range(40):
        yield rng.choice([f"{rng.randrange(320, 7680)}x{rng.randrange(240, 4320)}",
                          f"{rng.randrange(1, 100)}%", f"{rng.randrange(1, 5000)}ms",
                          f"#{rng.getrandbits(24):06x}", f"port {rng.randrange(1024, 65535)}",
                          f"HTTP {rng.choice([200, 201, 301, 404, 429, 500, 503])}",
                          f"{rng.randrange(1, 999)}.{rng.randrange(100):02d} MB"]), "und", "misc"
    for _ in range(30):
        yield f"{rng.randrange(1, 10)}Z{rng.randrange(10**5):05d}{rng.choice('ABCDEFGH')}{rng.randrange(10**8):08d}", "und", "tracking"


NEG_SENTENCES = {
    "date": ["Shipped on {v}.", "Due date: {v}", "Created {v} by the nightly job"],
    "time": ["Meeting at {v}", "Store opens {v}", "Backup finished at {v}."],
    "timestamp": ["ts={v}", "Event recorded {v}", "last_modified: {v}"],
    "unix_time": ["exp={v}", "Issued at {v} (unix)", "cache-bust ?t={v}"],
    "unix_time_ms": ["event_time_ms {v}", "t={v}"],
    "version": ["Upgraded to {v}", "Build {v} released", "requires node >= {v}"],
    "postcode": ["Postcode: {v}", "Deliveries to {v} are delayed.", "ZIP {v}"],
    "price": ["Total: {v}", "Now only {v}!", "Refund of {v} processed"],
    "order_id": ["Order {v} confirmed", "Invoice {v} is overdue", "ref {v}"],
    "uuid": ["request_id={v}", "Trace {v} sampled", "tenant {v}"],
    "git_sha": ["commit {v}", "Reverted {v}"],
    "git_short_sha": ["Fixed in {v}", "cherry-picked {v}"],
    "md5": ["md5sum {v}", "ETag: \"{v}\""],
    "sha256": ["sha256:{v}", "digest {v}"],
    "mac": ["Device MAC {v}", "DHCP lease for {v} renewed"],
    "short_number": ["Room {v}", "qty {v}", "page {v} of 900", "retry #{v}"],
    "isbn13": ["ISBN {v}", "Book {v} is out of stock"],
    "isbn10": ["ISBN-10: {v}"],
    "isbn13_plain": ["isbn={v}"],
    "ean13": ["EAN {v}", "barcode {v}"],
    "ean8": ["EAN-8 {v}"],
    "license_plate": ["Plate {v} parked in bay 4", "Vehicle reg: {v}"],
    "misc": ["Resolution {v}", "Value: {v}", "Observed {v}"],
    "tracking": ["Tracking number {v}", "Parcel {v} out for delivery"],
}
NEG_KEYS = {
    "date": "date", "time": "time", "timestamp": "created_at", "unix_time": "iat",
    "unix_time_ms": "ts", "version": "version", "postcode": "postcode", "price": "price",
    "order_id": "order_id", "uuid": "id", "git_sha": "sha", "git_short_sha": "rev",
    "md5": "md5", "sha256": "sha256", "mac": "mac", "short_number": "count",
    "isbn13": "isbn", "isbn10": "isbn", "isbn13_plain": "isbn", "ean13": "ean",
    "ean8": "ean", "license_plate": "plate", "misc": "value", "tracking": "tracking",
}


class LookalikeFilter:
    """Says why a negative text would actually contain PII, or None."""

    def __init__(self, prefixes: list[str]) -> None:
        self.prefixes = tuple(prefixes)
        self.digit_groups = re.compile(r"\d+(?:[ -]\d+)*")
        self.e164 = re.compile(r"\+\d[\d ()./-]{6,}\d")
        self.nanp = re.compile(r"(?<!\d)\(?[2-9]\d{2}\)?[-. ]?[2-9]\d{2}[-. ]\d{4}(?!\d)")
        self.ssn = re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)")
        self.ipv4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
        self.v6 = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")
        self.iban = re.compile(r"[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){10,30}")

    def card(self, text: str) -> bool:
        for m in self.digit_groups.finditer(text):
            groups = re.split(r"[ -]", m.group())
            for i in range(len(groups)):
                digits = ""
                for j in range(i, len(groups)):
                    digits += groups[j]
                    if len(digits) > 19:
                        break
                    if len(digits) >= 12 and digits.startswith(self.prefixes) and luhn_ok(digits):
                        return True
            for run in re.findall(r"\d{12,}", m.group()):
                for a in range(len(run)):
                    for b in range(a + 12, min(len(run), a + 19) + 1):
                        s = run[a:b]
                        if s.startswith(self.prefixes) and luhn_ok(s):
                            return True
        return False

    def why(self, text: str) -> str | None:
        if "@" in text:
            return "email"
        if self.card(text):
            return "card"
        for m in self.e164.finditer(text):
            if 8 <= len(re.sub(r"\D", "", m.group())) <= 15:
                return "e164"
        if self.nanp.search(text):
            return "nanp"
        if self.ssn.search(text):
            return "ssn"
        for m in self.ipv4.finditer(text):
            try:
                ipaddress.IPv4Address(m.group())
                return "ipv4"
            except ValueError:
                pass
        for m in self.v6.finditer(text):
            tok = m.group().strip(":.")
            for cand in (m.group(), tok):
                if cand.count(":") >= 2:
                    try:
                        ipaddress.IPv6Address(cand)
                        return "ipv6"
                    except ValueError:
                        pass
        for m in self.iban.finditer(text):
            if iban_ok(m.group().upper()):
                return "iban"
        return None


def gen_negatives(c: Corpus, stats: dict) -> None:
    flt = LookalikeFilter(card_prefixes())
    rng = rng_for("neg-sentences")
    dropped: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for value, locale, vk in neg_values(stats):
        if rng.random() < 0.3:
            key = NEG_KEYS[vk]
            try:
                parts = json_doc({key: SENTINEL, "ok": True}, value, "x")
            except ValueError:
                parts = sentence(rng.choice(NEG_SENTENCES[vk]), value, "x")
        else:
            parts = sentence(rng.choice(NEG_SENTENCES[vk]), value, "x")
        text = parts[0] + parts[1][0] + parts[2]
        reason = flt.why(text)
        if reason:
            dropped[f"{vk}:{reason}"] = dropped.get(f"{vk}:{reason}", 0) + 1
            continue
        kinds[vk] = kinds.get(vk, 0) + 1
        c.add([text], locale, kind="negative")
    stats["negatives_by_kind"] = kinds
    stats["negatives_dropped"] = dropped


# ------------------------------------------------------------------------- checks


def validate(records: list[dict]) -> None:
    for n, r in enumerate(records):
        b = r["text"].encode("utf-8")
        last = 0
        for s in r["spans"]:
            assert 0 <= last <= s["start"] < s["end"] <= len(b), (n, r)
            piece = b[s["start"]:s["end"]].decode("utf-8")
            assert piece == piece.strip(), (n, r)
            last = s["end"]
        assert (r["kind"] == "negative") == (not r["spans"]), (n, r)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="JSON Lines file to write")
    args = ap.parse_args()

    logging.disable(logging.WARNING)  # some providers log warnings; keep output clean
    Faker.seed(SEED)
    c = Corpus()
    stats: dict = {}
    # Nothing a provider might print may reach stdout: only the summary goes there.
    with contextlib.redirect_stdout(sys.stderr):
        gen_phones(c, stats)
        gen_cards(c, stats)
        gen_ips(c, stats)
        gen_ibans(c, stats)
        gen_emails(c, stats)
        gen_ssns(c, stats)
        gen_mixed(c, stats)
        gen_negatives(c, stats)
    validate(c.records)

    counts: dict[str, int] = {}
    for r in c.records:
        for s in r["spans"]:
            counts[s["category"]] = counts.get(s["category"], 0) + 1
    negatives = sum(1 for r in c.records if r["kind"] == "negative")

    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for r in c.records:
            fh.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
    os.replace(tmp, args.out)

    if os.environ.get("PII_CORPUS_DEBUG"):
        json.dump(stats, sys.stderr, indent=1, ensure_ascii=False)
        sys.stderr.write("\n")
    cats = " ".join(f"{k}={counts.get(k, 0)}" for k in ["phone", "card", "ip", "iban", "email", "ssn"])
    print(f"pii-corpus: {cats} negative={negatives} texts={len(c.records)} "
          f"faker={faker.VERSION} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
