"""The console's catalogue: every key in both languages, NFC, the same placeholders; every key a
template or page asks for exists (a typo would raise on the page instead of showing text)."""

from __future__ import annotations

import re
import string
import unicodedata
from pathlib import Path

import pytest

from gateway.console import i18n
from gateway.console.errors import UnknownText
from gateway.console.i18n import CATALOGUE, LANGS, Translator, choose_lang
from gateway.domain.case import Status
from gateway.domain.operators import Role
from gateway.domain.petition import Channel, Kind, SenderType
from gateway.outbound.circuit_breaker import BreakerState

CONSOLE = Path(i18n.__file__).parent
# a whole key: t("dl.title") or t("dl.done", count=…), not the prefix of t("status." ~ code)
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([\w.\-]+)["']\s*[,)]""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_key_has_both_languages_in_nfc_with_the_same_placeholders(key: str) -> None:
    entry = CATALOGUE[key]
    assert set(entry) == set(LANGS), f"{key}: languages {sorted(entry)}"
    for lang in LANGS:
        text = entry[lang]
        assert text.strip(), f"{key}: empty {lang}"
        assert unicodedata.normalize("NFC", text) == text, f"{key}: {lang} is not NFC"
    assert placeholders(entry["vi"]) == placeholders(entry["en"]), key


def test_vietnamese_is_vietnamese() -> None:
    """A catalogue half-copied from English would pass the tests above: the default language must
    read as Vietnamese, so most texts differ and carry its letters."""
    differ = [k for k, e in CATALOGUE.items() if e["vi"] != e["en"]]
    assert len(differ) / len(CATALOGUE) > 0.9
    assert "Đăng nhập" in CATALOGUE["login.title"]["vi"]
    accented = [k for k, e in CATALOGUE.items() if any(unicodedata.decomposition(c) for c in e["vi"])]
    assert len(accented) / len(CATALOGUE) > 0.6


def test_every_literal_key_used_by_templates_and_pages_exists() -> None:
    used: dict[str, str] = {}
    pages = [p for p in CONSOLE.glob("*.py") if p.name != "i18n.py"]  # the catalogue's own docstring
    for path in [*CONSOLE.glob("templates/*.html"), *pages]:
        for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8")):
            used.setdefault(key, path.name)
    assert len(used) > 100  # the scan found the templates' keys (it is not matching nothing)
    missing = {k: f for k, f in used.items() if k not in CATALOGUE}
    assert not missing, missing


def test_every_key_built_from_a_code_exists() -> None:
    """Templates build some keys from data: ``"status." ~ code`` and the like."""
    built = (
        [f"status.{s.value}" for s in Status]
        + [f"kind.{k.value}" for k in Kind]
        + [f"sender.{s.value}" for s in SenderType]
        + [f"channel.{c.value}" for c in Channel]
        + [f"role.{r.value}" for r in Role]
        + [f"overview.breaker.{b.value}" for b in BreakerState]
        + [f"overview.national_state.{s}" for s in ("pending", "delivered", "dead")]
        + [
            f"dl.{what}.{action}"
            for what in ("confirm_title", "confirm_text", "confirm_go", "done")
            for action in ("replay", "discard")
        ]
        + ["case.direction.in", "case.direction.out"]
    )
    assert [k for k in built if k not in CATALOGUE] == []


def test_translator_fills_placeholders_and_refuses_unknown_keys() -> None:
    assert Translator("vi")("dl.done.replay", count=3) == "Đã gửi lại 3 thư."
    assert Translator("en")("dl.done.replay", count=3) == "Replayed 3 message(s)."
    assert Translator("fr").lang == "vi"  # an unknown language falls back to the default
    with pytest.raises(UnknownText) as refused:
        Translator("en")("no.such.key")
    assert refused.value.code == "Console.UnknownText"


def test_language_choice_query_then_cookie_then_vietnamese() -> None:
    assert choose_lang("en", "vi") == "en"
    assert choose_lang(None, "en") == "en"
    assert choose_lang("xx", None) == "vi"
    assert choose_lang(None, None) == "vi"
