import base64

import pytest

from berth import config
from berth.errors import ValidationError

HARD = ["plain", "with space", "quote ' and \"", "dollar $HOME and `x`", "a=b=c", "line1\nline2",
        "ünïcødé ✓", "back\\slash", "", "trailing  "]


def test_pairs_keep_everything_after_the_first_equals():
    assert config.parse_pairs(["A=b=c", "B=", "C=x y"]) == {"A": "b=c", "B": "", "C": "x y"}


def test_encoded_values_are_base64():
    enc = base64.b64encode("x\ny ✓".encode()).decode()
    assert config.parse_pairs([f"K={enc}"], encoded=True) == {"K": "x\ny ✓"}
    with pytest.raises(ValidationError, match="base64"):
        config.parse_pairs(["K=!!"], encoded=True)


@pytest.mark.parametrize("bad", ["NOEQUALS", "1A=x", "A B=x", "=x"])
def test_bad_pairs(bad):
    with pytest.raises(ValidationError):
        config.parse_pairs([bad])


@pytest.mark.parametrize("fmt", ["envfile", "json"])
def test_export_import_round_trip(fmt):
    values = {f"K{i}": v for i, v in enumerate(HARD)}
    assert config.parse_import(config.export(values, fmt), fmt) == values


def test_shell_export_quotes():
    assert config.export({"A": "x y'z"}, "shell") == "export A='x y'\"'\"'z'\n"
