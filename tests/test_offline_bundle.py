"""scripts/offline_bundle.py: files cut into parts, the parts arriving one at a time and out of order, and every
file written back byte for byte; damaged or foreign parts and bad arguments refused with exit status 2."""

import os

import pytest

from tests.helpers import load_script

ob = load_script("offline_bundle")


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    (src / "data" / "sub").mkdir(parents=True)
    files = {"data/a.bin": os.urandom(2500), "data/sub/b.bin": os.urandom(10), "data/empty": b"",
             "w.pt": os.urandom(4097)}
    for name, content in files.items():
        (src / name).write_bytes(content)
    return src, files


def test_parts_arrive_one_at_a_time_and_every_file_comes_back(tree, tmp_path):
    src, files = tree
    out, keep, root = tmp_path / "bundle", tmp_path / "keep", tmp_path / "root"
    assert ob.main(["pack", "--out", str(out), "--max-mib", str(1000 / 2**20),
                    f"{src / 'data'}:ds/fm", f"{src / 'w.pt'}:weights/inception.pt"]) == 0
    folders = sorted(out.iterdir(), key=lambda p: int(p.name))
    total = sum(len(v) for v in files.values())
    assert len(folders) == -(-total // 1000) == 7
    assert all((f / "part").stat().st_size <= 1000 for f in folders)
    order = folders[3:] + folders[:3]                  # out of order, and one sent twice
    for f in order[:-1] + [order[0]]:
        assert ob.main(["unpack", str(f), "--keep", str(keep), "--root", str(root)]) == 1
        assert not root.exists()
    assert ob.main(["unpack", str(order[-1]), "--keep", str(keep), "--root", str(root)]) == 0
    assert (root / "ds/fm/a.bin").read_bytes() == files["data/a.bin"]
    assert (root / "ds/fm/sub/b.bin").read_bytes() == files["data/sub/b.bin"]
    assert (root / "ds/fm/empty").read_bytes() == b""
    assert (root / "weights/inception.pt").read_bytes() == files["w.pt"]
    assert not list(root.rglob("*.tmp"))


def test_a_damaged_or_foreign_part_is_refused(tree, tmp_path, capsys):
    src, _ = tree
    out = tmp_path / "bundle"
    ob.main(["pack", "--out", str(out), "--max-mib", str(3000 / 2**20), str(src / "w.pt")])
    part = out / "1" / "part"
    data = bytearray(part.read_bytes())
    data[7] ^= 1
    part.write_bytes(bytes(data))
    with pytest.raises(SystemExit) as e:
        ob.main(["unpack", str(out / "1"), "--keep", str(tmp_path / "keep"), "--root", str(tmp_path / "root")])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "not a part of this bundle" in err and "\n" not in err
    assert not list((tmp_path / "keep").glob("part-*"))


@pytest.mark.parametrize("args, message", [
    (["pack", "--out", "{tmp}/b", "{tmp}/missing"], "is not a file or folder"),
    (["pack", "--out", "{tmp}/b", "{src}/w.pt:../escape"], "relative path inside the root"),
    (["pack", "--out", "{tmp}/b", "{src}/w.pt:x", "{src}/data/a.bin:x"], "share one destination"),
    (["pack", "--out", "{src}", "{src}/w.pt"], "is not empty"),
    (["pack", "--out", "{tmp}/b", "--max-mib", "0", "{src}/w.pt"], "must be positive"),
    (["unpack", "{src}", "--keep", "{tmp}/k", "--root", "{tmp}/r"], "holds no part and manifest"),
])
def test_bad_arguments_get_one_line_and_exit_2(tree, tmp_path, capsys, args, message):
    src, _ = tree
    with pytest.raises(SystemExit) as e:
        ob.main([a.format(tmp=tmp_path, src=src) for a in args])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not (tmp_path / "b").exists()


def test_parts_of_two_bundles_kept_in_one_folder_do_not_mix(tmp_path):
    contents = {}
    for name in ("a", "b"):
        src = tmp_path / f"{name}.bin"
        contents[name] = os.urandom(1500)
        src.write_bytes(contents[name])
        ob.main(["pack", "--out", str(tmp_path / name), "--max-mib", str(1000 / 2**20), f"{src}:f.bin"])
    keep = tmp_path / "keep"
    assert ob.main(["unpack", str(tmp_path / "a" / "1"), "--keep", str(keep), "--root", str(tmp_path / "ra")]) == 1
    assert ob.main(["unpack", str(tmp_path / "b" / "2"), "--keep", str(keep), "--root", str(tmp_path / "rb")]) == 1
    assert ob.main(["unpack", str(tmp_path / "a" / "2"), "--keep", str(keep), "--root", str(tmp_path / "ra")]) == 0
    assert (tmp_path / "ra" / "f.bin").read_bytes() == contents["a"] and not (tmp_path / "rb").exists()
