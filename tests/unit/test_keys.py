import base64
import struct

import pytest

from berth.errors import ValidationError
from berth.keys import parse_public_key


def key(kind="ssh-ed25519", inner=None):
    name = (inner or kind).encode()
    blob = struct.pack(">I", len(name)) + name + struct.pack(">I", 32) + b"k" * 32
    return f"{kind} {base64.b64encode(blob).decode()} me@host"


def test_parse_and_fingerprint():
    kind, _blob, fp = parse_public_key(key())
    assert kind == "ssh-ed25519" and fp.startswith("SHA256:")


@pytest.mark.parametrize("text", ["", "garbage", key() + "\n" + key(),
                                  'command="x" ' + key(), key(inner="ssh-rsa"),
                                  "ssh-ed25519 !!!notbase64"])
def test_bad_keys(text):
    with pytest.raises(ValidationError):
        parse_public_key(text)
