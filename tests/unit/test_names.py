import pytest

from berth import names
from berth.errors import ValidationError


@pytest.mark.parametrize("good", ["a", "myapp", "my-app-2", "0app", "a" * 63])
def test_app_names_accepted(good):
    assert names.app_name(good) == good


@pytest.mark.parametrize("bad", ["", "My_App", "MyApp", "my_app", "a/b", "..", "a;b", "$x",
                                 "a b", "-a", "a-", "a" * 64, "ä", "a\nb", "a.b"])
def test_app_names_refused_with_the_rule(bad):
    with pytest.raises(ValidationError, match=r"use a-z, 0-9 and '-'.*max 63"):
        names.app_name(bad)


@pytest.mark.parametrize("bad", ["1A", "A-B", "", "A B", "A=B", "é"])
def test_env_keys_refused(bad):
    with pytest.raises(ValidationError, match="invalid config key"):
        names.env_key(bad)


def test_env_value_refuses_nul_only():
    assert names.env_value("K", "a b 'c' \"d\" $e =f\ng ü") == "a b 'c' \"d\" $e =f\ng ü"
    with pytest.raises(ValidationError, match="NUL"):
        names.env_value("K", "a\x00b")


@pytest.mark.parametrize("bad", ["Web", "1web", "we b", "w;b", ""])
def test_process_types(bad):
    with pytest.raises(ValidationError):
        names.process_type(bad)
    assert names.process_type("worker_2") == "worker_2"


@pytest.mark.parametrize("bad", ["../x", "a..b", "x.lock", "-x", "a b", "a//b", ""])
def test_branch_names(bad):
    with pytest.raises(ValidationError):
        names.branch_name(bad)
    assert names.branch_name("release/v1.2") == "release/v1.2"
