import io
import tarfile

import pytest

from berth import archive
from berth.errors import ValidationError


def tar_with(*members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    buf.seek(0)
    return tarfile.open(fileobj=buf, mode="r|")


def f(name, data=b"x"):
    i = tarfile.TarInfo(name)
    i.size = len(data)
    return i, data


def link(name, target, kind=tarfile.SYMTYPE):
    i = tarfile.TarInfo(name)
    i.type = kind
    i.linkname = target
    return i, None


def test_plain_tree_extracts(tmp_path):
    archive.extract(tar_with(f("a/b.txt", b"hi"), link("a/c", "b.txt")), tmp_path)
    assert (tmp_path / "a" / "b.txt").read_bytes() == b"hi"
    assert (tmp_path / "a" / "c").read_bytes() == b"hi"


@pytest.mark.parametrize("member", [
    f("/etc/x"), f("../x"), f("a/../../x"), link("l", "/etc/passwd"), link("l", "../../x"),
    link("h", "/etc/passwd", tarfile.LNKTYPE),
])
def test_escapes_refused_before_writing(tmp_path, member):
    with pytest.raises(ValidationError, match="outside|leaves"):
        archive.extract(tar_with(member), tmp_path / "d")
    assert not (tmp_path / "x").exists()


def test_devices_refused(tmp_path):
    i = tarfile.TarInfo("dev")
    i.type = tarfile.CHRTYPE
    with pytest.raises(ValidationError, match="not a file"):
        archive.extract(tar_with((i, None)), tmp_path)


def test_size_limit(tmp_path):
    with pytest.raises(ValidationError, match="larger than"):
        archive.extract(tar_with(f("a", b"x" * 100)), tmp_path, max_bytes=10)
