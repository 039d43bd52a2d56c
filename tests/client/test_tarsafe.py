"""
Safe tar extraction: unsafe members refuse the whole archive before anything is written.
"""

import io
import os
import stat
import tarfile

import pytest

from sunpy_jsoc_cutout._transfer.tarsafe import safe_extract
from sunpy_jsoc_cutout.exceptions import JSOCCutoutError, UnsafeArchiveError


def _info(name, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def make_tar(path, members):
    """A tar of ``(TarInfo, bytes or None)`` members."""
    with tarfile.open(path, "w") as tar:
        for info, payload in members:
            if payload is not None:
                info.size = len(payload)
            tar.addfile(info, None if payload is None else io.BytesIO(payload))
    return path


GOOD = [
    (_info(".", tarfile.DIRTYPE), None),
    (_info("./index.json"), b'{"status": "0"}'),
    (_info("./a.fits"), b"SIMPLE  = T" + b" " * 100),
    (_info("./sub", tarfile.DIRTYPE), None),
    (_info("./sub/b.fits"), b"bbb"),
]


def test_safe_tar_is_extracted(tmp_path):
    tar = make_tar(tmp_path / "good.tar", GOOD)
    dest = tmp_path / "out"
    paths = safe_extract(tar, dest)
    assert paths == [(dest / "index.json").resolve(), (dest / "a.fits").resolve(), (dest / "sub/b.fits").resolve()]
    assert (dest / "sub" / "b.fits").read_bytes() == b"bbb"
    assert (dest / "a.fits").read_bytes().startswith(b"SIMPLE")
    # no temporary files are left beside the extracted ones
    assert sorted(p.name for p in dest.rglob("*")) == ["a.fits", "b.fits", "index.json", "sub"]


def test_extracted_files_get_the_umask_like_downloads(tmp_path):
    """Neither the member's mode in the tar nor a private temporary file's 0600 is what lands: the umask is."""
    tar = make_tar(tmp_path / "good.tar", [(_info("./a.fits"), b"SIMPLE")])
    tar_info = tarfile.open(tar).getmember("./a.fits")
    assert tar_info.mode == 0o644  # tarfile's default; the umask below differs from it
    previous = os.umask(0o027)
    try:
        (path,) = safe_extract(tar, tmp_path / "out")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ((_info("/tmp/evil_absolute.txt"), b"x"), "absolute"),
        ((_info("./../evil_dotdot.txt"), b"x"), r"'\.\.'"),
        ((_info("sub/../../evil_dotdot2.txt"), b"x"), r"'\.\.'"),
        ((_info("./link.fits", tarfile.SYMTYPE, "/etc/passwd"), None), "symbolic link"),
        ((_info("./hard.fits", tarfile.LNKTYPE, "../../etc/passwd"), None), "hard link"),
        ((_info("./dev", tarfile.CHRTYPE), None), "special file"),
        ((_info("./fifo", tarfile.FIFOTYPE), None), "special file"),
    ],
)
def test_unsafe_member_refuses_everything(tmp_path, member, reason):
    # the unsafe member comes last: the safe ones before it must not be written either
    tar = make_tar(tmp_path / "bad.tar", [*GOOD, member])
    dest = tmp_path / "deep" / "out"
    with pytest.raises(UnsafeArchiveError, match=reason) as info:
        safe_extract(tar, dest)
    assert isinstance(info.value, JSOCCutoutError)
    assert not dest.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["bad.tar"]


def test_symlink_already_in_dest_cannot_redirect(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)
    tar = make_tar(tmp_path / "t.tar", [(_info("sub/x.fits"), b"x")])
    with pytest.raises(UnsafeArchiveError, match="outside the destination"):
        safe_extract(tar, dest)
    assert list(outside.iterdir()) == []


def test_not_a_tar(tmp_path):
    path = tmp_path / "x.tar"
    path.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(tarfile.TarError):
        safe_extract(path, tmp_path / "out")
