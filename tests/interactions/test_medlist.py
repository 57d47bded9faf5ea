"""The list and its encoding: plain values, no request and no database."""

import json
import time

import pytest

from interactions import medlist
from interactions.medlist import MedEntry, MedList


def _token(payload) -> str:
    return medlist._fernet().encrypt(json.dumps(payload).encode()).decode()


def test_a_list_round_trips_through_its_encoding():
    original = MedList([MedEntry("naltrexone", "naltrexone-injection", "Vivitrol"), MedEntry("oxycodone")], "Hi")
    decoded = medlist.decode(medlist.encode(original))
    assert decoded == original


def test_the_encoding_keeps_its_format_so_saved_cookies_still_read():
    token = medlist.encode(MedList([MedEntry("naltrexone", "naltrexone-injection", "Vivitrol")], key="k1"))
    assert json.loads(medlist._fernet().decrypt(token.encode())) == {
        "v": 1,
        "e": [["naltrexone", "naltrexone-injection", "Vivitrol"]],
        "n": "",
        "i": "k1",
    }


def test_lists_saved_before_labels_and_keys_still_read():
    decoded = medlist.decode(_token({"v": 1, "e": [["naltrexone", "naltrexone-injection"], ["oxycodone", ""]]}))
    assert decoded.entries == [MedEntry("naltrexone", "naltrexone-injection"), MedEntry("oxycodone")]
    assert decoded.key  # a new one


def test_the_encoding_does_not_reveal_the_list():
    token = medlist.encode(MedList([MedEntry("oxycodone")]))
    assert "oxycodone" not in token
    import base64

    assert b"oxycodone" not in base64.urlsafe_b64decode(token + "==")


@pytest.mark.parametrize("value", ["garbage", "gAAAAA" + "x" * 80, "%%%"])
def test_an_unreadable_value_raises_with_a_notice(value):
    with pytest.raises(ValueError, match="could not be read"):
        medlist.decode(value)


def test_an_idle_list_expires(settings, monkeypatch):
    token = medlist.encode(MedList([MedEntry("oxycodone")]))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + settings.MEDLIST_IDLE_SECONDS + 5)
    with pytest.raises(ValueError, match="expired"):
        medlist.decode(token)


def test_duplicate_adds_are_ignored():
    items = MedList()
    assert items.add("oxycodone") == "added"
    assert items.add("oxycodone") == "duplicate"
    assert items.entries == [MedEntry("oxycodone")]


def test_a_list_holds_at_most_thirty(settings):
    items = MedList([MedEntry(f"m{i}") for i in range(settings.MEDLIST_MAX_ENTRIES)])
    assert items.add("one-more") == "full"
    assert len(items.entries) == 30


def test_an_add_that_would_not_fit_in_the_cookie_is_refused_and_the_list_kept():
    # 30 long names: a browser would silently drop a cookie this large.
    items = MedList()
    outcomes = [items.add(f"medicine-with-a-very-long-name-{i:02d}-" + "x" * 80, None, "Brand" * 10) for i in range(30)]
    assert "too-big" in outcomes
    kept = outcomes.index("too-big")
    assert outcomes[:kept] == ["added"] * kept
    assert len(medlist.encode(items)) <= medlist.COOKIE_MAX_BYTES
    assert len(items.entries) == kept
