"""Property tests: parsers of user input either accept or raise a BerthError, never anything
else, and what they accept round-trips."""

from hypothesis import given, settings
from hypothesis import strategies as st

from berth import appjson, config, names, procfile
from berth.cli.main import COMMANDS, INTERNAL
from berth.errors import BerthError
from berth.ssh import shell

ALLOWED = set(COMMANDS) - INTERNAL
text = st.text(max_size=300)


def only_berth_errors(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except BerthError:
        pass


@given(text)
def test_names_never_crash(value):
    for fn in (names.app_name, names.process_type, names.env_key, names.user_name,
               names.branch_name):
        only_berth_errors(fn, value)


@given(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", fullmatch=True))
def test_valid_app_names_accepted(value):
    assert names.app_name(value) == value


@given(text)
def test_procfile_never_crashes(value):
    only_berth_errors(procfile.parse, value)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
                       st.text(alphabet=st.characters(blacklist_characters="\n\r\x00"),
                               min_size=1, max_size=50).map(str.strip).filter(bool),
                       max_size=5))
def test_procfile_round_trip(procs):
    text_ = "".join(f"{k}: {v}\n" for k, v in procs.items())
    assert procfile.parse(text_) == procs


@given(text)
def test_app_json_never_crashes(value):
    only_berth_errors(appjson.parse, value)


@given(st.lists(text, max_size=4), st.booleans())
def test_config_pairs_never_crash(pairs, encoded):
    only_berth_errors(config.parse_pairs, pairs, encoded=encoded)


@settings(max_examples=200)
@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,20}", fullmatch=True),
                       st.text(alphabet=st.characters(blacklist_characters="\x00",
                                                      blacklist_categories=("Cs",)),
                               max_size=80), max_size=6),
       st.sampled_from(["envfile", "json"]))
def test_config_export_import_round_trip(values, fmt):
    assert config.parse_import(config.export(values, fmt), fmt) == values


@given(text)
def test_ssh_command_parser_never_crashes(value):
    def parse(v):
        shell.classify(shell.tokenize(v), ALLOWED)

    only_berth_errors(parse, value)


@given(text)
def test_ssh_parser_never_passes_a_non_berth_command(value):
    try:
        kind, args = shell.classify(shell.tokenize(value), ALLOWED)
    except BerthError:
        return
    if kind == "git":
        names.app_name(args[1])
        assert args[0] in ("git-receive-pack", "git-upload-pack")
    else:
        assert args == ["--help"] or args[0] in ALLOWED
