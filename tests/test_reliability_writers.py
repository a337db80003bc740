"""Writers keep the user's files (issue 15, items 2 and 3, and the settings checked before any work).

Three layers:

* the move into place (``izdat.files``) under injected failures: ``os.replace`` failing on the
  k-th call for every k, failing from the k-th call on, a directory, pipe or read-only file in
  the way, a full disk; and a process SIGKILLed (or SIGTERMed) at every ``os.replace`` of a run;
* the commands (``izdat cut``, ``izdat dub``) refusing bad settings, inputs and memory before any
  work, creating nothing;
* a fault test of every writer command (cut, dub, spread): each run killed by SIGKILL or SIGTERM
  after a delay drawn from a seeded RNG over the command's run time, at least 20 kills each. After
  every kill the folder must be as before (hash of every file) or hold the run's whole new output;
  a SIGTERM leaves no staging folder; a SIGKILL inside the few milliseconds of the move may leave
  the folder mixed until the next run into it, which rolls it back first (``clean_stale``). After
  a later successful run no ``.izdat-*`` folder remains. The runs are forked from one process that
  has imported izdat once, so each costs the command's own time, not Python's start-up.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from izdat import files
from izdat.audio import load
from izdat.cli import main
from izdat.errors import AudioError, GrooveError, OutputError
from izdat.files import atomic_path, clean_stale, staged_folder

RATE = 8000
SMALL = ["--diameter", "100", "--inner-radius", "25", "--outer-margin", "5", "--dpi", "50"]
#: Figures for docs/reliability.md, printed at the end (pytest -s shows them).
FIGURES = {"faults_injected": 0, "bytes_lost": 0, "stages_left_by_sigkill": 0, "mixed_until_next_run": 0}


# -- helpers -------------------------------------------------------------------------------------

def tree(folder: Path, *, hidden_stages: bool = True) -> dict:
    """Every entry under ``folder`` by relative path: the sha256 of a file, the target of a link, 'dir'."""
    out = {}
    for root, dirs, names in os.walk(folder):
        rel = Path(root).relative_to(folder)
        if not hidden_stages and rel == Path("."):
            dirs[:] = [d for d in dirs if not d.startswith(".izdat-")]
        for d in dirs:
            out[str(rel / d)] = "dir"
        for n in names:
            p = Path(root) / n
            if p.is_symlink():
                out[str(rel / n)] = "link:" + os.readlink(p)
            elif p.is_fifo():
                out[str(rel / n)] = "fifo"
            else:
                out[str(rel / n)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def stages(folder: Path) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n.startswith(".izdat-")) if folder.exists() else []


def old_folder(folder: Path) -> Path:
    """An output folder from an earlier run, with a file of the user's beside the outputs."""
    folder.mkdir(parents=True)
    (folder / "record.svg").write_bytes(b"<svg>old</svg>" * 100)
    (folder / "record.json").write_text('{"old": true}')
    (folder / "notes.txt").write_text("the user's own notes")
    os.symlink("record.svg", folder / "latest.svg")
    return folder


def write_new(stage: Path) -> None:
    """A run's outputs: two replace old files, one is new, one replaces a symlink; one via atomic_path."""
    (stage / "record.svg").write_bytes(b"<svg>new</svg>")
    with atomic_path(stage / "record.json") as tmp:
        tmp.write_text('{"new": true}')
    (stage / "record.png").write_bytes(b"\x89PNG new")
    (stage / "latest.svg").write_bytes(b"not a link any more")


def replace_counter(fail_at=None, fail_from=None, action=None):
    """``os.replace`` that counts its calls and fails (or runs ``action``) on the chosen ones."""
    real = os.replace
    calls = [0]

    def replace(src, dst, **kw):
        calls[0] += 1
        if action is not None and calls[0] == fail_at:
            action()
        elif calls[0] == fail_at or (fail_from is not None and calls[0] >= fail_from):
            raise OSError(errno.EIO, f"injected failure of os.replace call {calls[0]}")
        return real(src, dst, **kw)
    return replace, calls


def forked(fn) -> int:
    """Run ``fn`` in a forked child (which never returns to pytest); its wait status."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            fn()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            code = 1
        os._exit(code)
    return os.waitpid(pid, 0)[1]


@pytest.fixture
def song(tmp_path):
    t = np.arange(RATE // 2) / RATE
    path = tmp_path / "song.wav"
    soundfile.write(path, 0.4 * np.sin(2 * np.pi * 440 * t), RATE)
    return path


# -- the move into place under injected failures ------------------------------------------------

def test_every_failing_replace_leaves_the_folder_byte_identical(tmp_path, monkeypatch):
    """issue 15 item 2: os.replace failing on the k-th call, for every k of a run."""
    probe = old_folder(tmp_path / "probe")
    replace, calls = replace_counter()
    monkeypatch.setattr(os, "replace", replace)
    with staged_folder(probe) as stage:
        write_new(stage)
    monkeypatch.undo()
    n = calls[0]
    assert n == 1 + 3 + 4   # atomic_path's rename, three old names moved aside, four new moved in
    assert (probe / "record.png").read_bytes() == b"\x89PNG new" and not stages(probe)
    assert (probe / "notes.txt").read_text() == "the user's own notes"
    for k in range(1, n + 1):
        folder = old_folder(tmp_path / f"k{k}")
        before = tree(folder)
        replace, calls = replace_counter(fail_at=k)
        monkeypatch.setattr(os, "replace", replace)
        with pytest.raises(OutputError) as err:
            with staged_folder(folder) as stage:
                write_new(stage)
        monkeypatch.undo()
        assert tree(folder) == before, f"os.replace failing on call {k} changed the folder"
        assert "\n" not in str(err.value)
        FIGURES["faults_injected"] += 1


def test_a_replace_failing_for_good_keeps_the_old_files_and_the_next_run_puts_them_back(tmp_path, monkeypatch):
    """Even when putting back fails too, no old byte is deleted: they wait in the staging folder."""
    for k in range(2, 9):
        folder = old_folder(tmp_path / f"from{k}")
        before = tree(folder)
        replace, _ = replace_counter(fail_from=k)
        monkeypatch.setattr(os, "replace", replace)
        with pytest.raises(OutputError):
            with staged_folder(folder) as stage:
                write_new(stage)
        monkeypatch.undo()
        FIGURES["faults_injected"] += 1
        # every old file is in its place or kept in the staging folder
        kept = {name: digest for s in stages(folder) for name, digest in
                tree(folder / s / ".izdat-old").items()} if stages(folder) else {}
        now = tree(folder, hidden_stages=False)
        for name, digest in before.items():
            assert now.get(name) == digest or kept.get(name) == digest, (k, name)
        # the next run into the folder, from another process, rolls it back
        monkeypatch.setattr(files, "_abandoned", lambda tag, path: True)
        clean_stale(folder)
        monkeypatch.undo()
        assert tree(folder) == before, k


@pytest.mark.parametrize("make,words", [
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: os.mkfifo(p), "is a pipe"),
    (lambda p: (p.write_bytes(b"keep me"), p.chmod(0o444)), "is read-only"),
])
def test_a_name_taken_by_a_directory_pipe_or_read_only_file_refuses_the_whole_move(tmp_path, make, words):
    folder = old_folder(tmp_path / "o")
    make(folder / "record.png")
    before = tree(folder)
    with pytest.raises(OutputError, match=words):
        with staged_folder(folder) as stage:
            write_new(stage)
    assert tree(folder) == before


def test_a_full_disk_while_writing_changes_nothing_and_creates_no_folder(tmp_path):
    folder = old_folder(tmp_path / "o")
    before = tree(folder)
    for target in (folder, tmp_path / "new" / "deeper"):
        with pytest.raises(OutputError, match="No space left on device"):
            with staged_folder(target) as stage:
                (stage / "record.svg").write_bytes(b"half")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert tree(folder) == before
    assert not (tmp_path / "new").exists()


def test_a_failed_run_does_not_leave_a_new_empty_output_folder(tmp_path):
    with pytest.raises(GrooveError):
        with staged_folder(tmp_path / "a" / "b"):
            raise GrooveError("a setting checked too late")
    assert not (tmp_path / "a").exists()
    with pytest.raises(GrooveError):
        with atomic_path(tmp_path / "c" / "x.wav"):
            raise GrooveError("a setting checked too late")
    assert not (tmp_path / "c").exists()


def test_a_folder_that_cannot_be_made_gives_one_sentence(tmp_path, monkeypatch):
    def refuse(path, *args, **kw):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    monkeypatch.setattr(os, "mkdir", refuse)
    for writer in (staged_folder, atomic_path):
        with pytest.raises(OutputError, match="cannot write to .*: Permission denied"):
            with writer(tmp_path / "a" / "b"):
                pass
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_atomic_path_refuses_a_directory_with_one_sentence(tmp_path):
    (tmp_path / "played.wav").mkdir()
    with pytest.raises(OutputError, match="played.wav is a directory; izdat will not replace it"):
        with atomic_path(tmp_path / "played.wav") as tmp:
            tmp.write_bytes(b"x")
    assert os.listdir(tmp_path / "played.wav") == []
    assert sorted(os.listdir(tmp_path)) == ["played.wav"]


def test_check_output_file_and_folder_create_nothing(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="cannot write to .*f: it is not a folder"):
        files.check_output_folder(tmp_path / "f")
    with pytest.raises(OutputError, match="cannot write to .*f: it is not a folder"):
        files.check_output_file(tmp_path / "f" / "x.wav")
    files.check_output_folder(tmp_path / "n" / "m", ["record.png"])
    assert sorted(os.listdir(tmp_path)) == ["f"]


# -- killed processes: the staging folder of a dead process is rolled back or removed -------------

def test_a_sigkill_at_every_replace_is_rolled_back_by_the_next_run(tmp_path):
    """SIGKILL before the k-th os.replace of a run, every k: the next run restores the folder."""
    k = 0
    while True:
        k += 1
        folder = old_folder(tmp_path / f"kill{k}")
        before = tree(folder)

        def run():
            os.replace = replace_counter(fail_at=k, action=lambda: os.kill(os.getpid(), signal.SIGKILL))[0]
            with staged_folder(folder) as stage:
                write_new(stage)
        status = forked(run)
        if os.WIFEXITED(status):
            assert os.WEXITSTATUS(status) == 0 and k == 9   # past the last of 8 renames: it finished
            assert not stages(folder) and (folder / "record.png").exists()
            break
        assert os.WTERMSIG(status) == signal.SIGKILL
        FIGURES["faults_injected"] += 1
        assert len(stages(folder)) == 1
        with staged_folder(folder):   # the next run into the folder (it writes nothing)
            assert tree(folder, hidden_stages=False) == {p: d for p, d in before.items()}
        assert tree(folder) == before, f"SIGKILL before os.replace call {k}"


def test_a_sigterm_during_the_move_waits_for_it_to_finish(tmp_path):
    """The move is never cut in half by SIGTERM: it completes (or rolls back), then the run exits 143."""
    from izdat.cli import _catch_stop_signals
    for k in range(1, 9):
        folder = old_folder(tmp_path / f"term{k}")
        before = tree(folder)

        def run():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _catch_stop_signals()
            os.replace = replace_counter(fail_at=k, action=lambda: os.kill(os.getpid(), signal.SIGTERM))[0]
            with staged_folder(folder) as stage:
                write_new(stage)
        status = forked(run)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 143, k
        FIGURES["faults_injected"] += 1
        assert not stages(folder)
        after = tree(folder)
        if k == 1:   # the signal came inside the run's own writing: nothing changes
            assert after == before
        else:        # inside the move: it finished first
            assert (folder / "record.png").read_bytes() == b"\x89PNG new"
            assert (folder / "record.svg").read_bytes() == b"<svg>new</svg>"
            assert after["notes.txt"] == before["notes.txt"]


def test_stale_folders_of_live_processes_and_other_hosts_are_left_alone(tmp_path):
    folder = tmp_path / "o"
    folder.mkdir()
    mine = folder / f".izdat-{files._owner_tag()}-abc"
    other_host = folder / f".izdat-00000000-1-{files._start_time(1)}-abc"
    reused_pid = folder / f".izdat-{files._host()}-{os.getpid()}-1-abc"   # this pid, another start time
    for d in (mine, other_host, reused_pid):
        d.mkdir()
    status = forked(lambda: (folder / f".izdat-{files._owner_tag()}-dead").mkdir())   # a process now gone
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and len(stages(folder)) == 4
    clean_stale(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([mine.name, other_host.name])


def test_a_staging_folder_of_an_older_izdat_is_removed_once_a_day_old(tmp_path):
    folder = tmp_path / "o"
    (folder / ".izdat-k3j2h1g0").mkdir(parents=True)    # mkdtemp's name, before owners were named
    (folder / ".izdat-a1b2c3d4").mkdir()
    day_old = time.time() - files.LEGACY_AGE_S - 60
    os.utime(folder / ".izdat-k3j2h1g0", (day_old, day_old))
    assert clean_stale(folder) == 1
    assert stages(folder) == [".izdat-a1b2c3d4"]


def test_temporary_files_of_killed_processes_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "copy.wav"

    def run():
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half a file")
            os.kill(os.getpid(), signal.SIGKILL)
    forked(run)
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".copy.wav.") and left[0].endswith(".part.wav")
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.wav"]


# -- the commands check everything before any work ---------------------------------------------

def test_cut_into_a_folder_where_record_png_is_a_directory_fails_at_once_and_keeps_everything(izdat, song, tmp_path):
    """issue 15: `mkdir -p o/record.png; izdat cut song.wav -o o` gave a traceback and lost record.svg."""
    folder = old_folder(tmp_path / "o")
    (folder / "record.png").mkdir()
    before = tree(folder)
    code, out, err = izdat("cut", song, "-o", folder, *SMALL)
    assert code == 2 and err.startswith("izdat: ") and err.count("\n") == 1, err
    assert "record.png is a directory" in err and "turns" not in err   # before the cut, not after it
    assert tree(folder) == before


@pytest.mark.parametrize("args,words", [
    (["--hole-offset", "1e9"], "--hole-offset must be between 0 and 20 mm"),
    (["--feed", "-1"], "--feed must be between 1 and 100000 mm/min"),
    (["--depth", "nan"], "--depth must be between 0.001 and 5 mm"),
    (["--seed", "-1"], "--seed must be between 0 and"),
])
def test_cut_checks_every_setting_before_any_work_and_creates_nothing(izdat, song, tmp_path, args, words):
    code, _, err = izdat("cut", song, "-o", tmp_path / "new" / "rec", *SMALL, *args)
    assert code == 2 and words in err and err.count("\n") == 1, err
    assert "turns" not in err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("samples,words", [(np.array([0.1, np.nan, 0.2] * 100), "holds NaN"),
                                           (np.zeros(0), "is empty")])
def test_dub_of_a_nan_or_empty_song_creates_no_folder(izdat, tmp_path, samples, words):
    path = tmp_path / "bad.wav"
    soundfile.write(path, samples, RATE, subtype="FLOAT")
    code, _, err = izdat("dub", path, "-o", tmp_path / "tapes")
    assert code == 2 and f"bad.wav {words}" in err and err.count("\n") == 1, err
    assert not (tmp_path / "tapes").exists()


def test_erase_and_dub_refuse_a_directory_in_the_way_before_the_work(izdat, song, tmp_path):
    (tmp_path / "erased.wav").mkdir()
    code, _, err = izdat("erase", song, "-o", tmp_path / "erased.wav")
    assert code == 2 and "erased.wav is a directory" in err
    (tmp_path / "tapes" / "generation-02.wav").mkdir(parents=True)
    code, _, err = izdat("dub", song, "-o", tmp_path / "tapes", "-n", "2")
    assert code == 2 and "generation-02.wav is a directory" in err
    assert os.listdir(tmp_path / "tapes") == ["generation-02.wav"]


def test_a_picture_too_big_for_the_memory_is_refused_before_the_song_is_read(izdat, tmp_path, monkeypatch):
    """`izdat cut --diameter 420 --dpi 4800 --bits 16` with 8 GiB free: one sentence with the DPI that fits."""
    import izdat.render as render
    monkeypatch.setattr(render, "available_memory", lambda: 8 * 2**30)
    code, _, err = izdat("cut", tmp_path / "not-read.wav", "-o", tmp_path / "rec",
                         "--diameter", "420", "--dpi", "4800", "--bits", "16")
    assert code == 2 and err.count("\n") == 1, err
    assert "81639 x 81639 px, 16-bit, 12.4 GiB" in err and "only 8.0 GiB is available" in err
    fit = int(err.split("; ")[-1].split(" DPI would fit")[0])
    assert 1000 < fit < 4800
    render.check_memory(0.42, fit, 16, available=8 * 2**30)
    with pytest.raises(GrooveError):
        render.check_memory(0.42, fit + 1, 16, available=8 * 2**30)
    assert not (tmp_path / "rec").exists()


def test_the_memory_estimate_of_an_ordinary_cut_passes():
    import izdat.render as render
    need = render.check_memory(0.25, 1200, 8, available=2**31)
    assert 380e6 < need < 420e6   # 12379² px × 2.6


# -- inputs that are not audio files ------------------------------------------------------------

def test_a_directory_or_pipe_given_as_audio_is_named_and_a_pipe_is_not_opened(tmp_path):
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "f")
    with pytest.raises(AudioError, match="cannot read .*d: it is a directory, not an audio file"):
        load(tmp_path / "d")
    result = []
    reader = threading.Thread(target=lambda: result.append(pytest.raises(AudioError, load, tmp_path / "f")), daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "load() blocked on a pipe"
    assert "it is a pipe, not an audio file" in str(result[0].value)
    with pytest.raises(AudioError, match="no such file"):
        load(tmp_path / "missing.wav")


def test_a_directory_or_pipe_given_as_the_xray_is_named_and_not_opened(izdat, song, tmp_path):
    (tmp_path / "scans").mkdir()
    os.mkfifo(tmp_path / "scan.png")
    for name, kind in (("scans", "a directory"), ("scan.png", "a pipe")):
        code, _, err = izdat("cut", song, "-o", tmp_path / "rec", *SMALL, "--xray", tmp_path / name)
        assert code == 2 and f"cannot read {name} as an X-ray: it is {kind}, not a picture" in err
    assert not (tmp_path / "rec").exists()


def test_a_folder_that_cannot_be_written_is_refused_before_the_cut(izdat, song, tmp_path, monkeypatch):
    """A read-only folder (simulated: this suite may run as root, whom permissions do not stop)."""
    folder = old_folder(tmp_path / "o")
    before = tree(folder)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == folder and mode & os.W_OK
                        else real(p, mode, **kw))
    code, _, err = izdat("cut", song, "-o", folder, *SMALL)
    assert code == 2 and "is not writable" in err and "turns" not in err, err
    monkeypatch.undo()
    assert tree(folder) == before


def test_an_eight_channel_song_is_said_to_have_eight_channels(izdat, tmp_path):
    path = tmp_path / "octo.wav"
    soundfile.write(path, 0.1 * np.sin(np.arange(RATE // 2)[:, None] / 9 + np.arange(8)), RATE)
    code, _, err = izdat("cut", path, "-o", tmp_path / "rec", *SMALL, "--format", "svg")
    assert code == 0, err
    assert "octo.wav has 8 channels: they are summed to mono" in err and "stereo" not in err


def test_the_same_plan_gives_the_same_dxf_bytes(tmp_path):
    from izdat.fabricate import CutPlan, write_dxf
    from izdat.lathe import Lathe
    from izdat.audio import Audio
    t = np.arange(RATE // 4) / RATE
    record = Lathe(diameter_mm=100, inner_radius_mm=25, outer_margin_mm=5).cut(Audio(0.3 * np.sin(2000 * t), RATE))
    plan = CutPlan.of(record, start_angle_deg=10)
    a, b = write_dxf(plan, tmp_path / "a.dxf"), write_dxf(plan, tmp_path / "b.dxf")
    assert a.read_bytes() == b.read_bytes()


# -- the fault test: every writer command killed at random points --------------------------------

SERVER = r"""
import contextlib, json, os, sys
import matplotlib
matplotlib.use("Agg")
import izdat.cli, izdat.tape.concert, izdat.underground, izdat.underground.plots
import izdat.underground.lineage, izdat.underground.summary, izdat.underground.ensemble
from izdat.cli import main

def run(argv):
    sys.argv = ["izdat", *argv]
    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        return 1
    return 0

def child(req):
    fd = os.open(os.devnull, os.O_RDWR)
    for n in (0, 1, 2):
        os.dup2(fd, n)
    os.chdir(req["cwd"])
    os._exit(run(req["argv"]))

# warm-up: the commands once in this process, so each forked run finds numba's compiled code
# loaded; without a picture (--format without png), since OpenMP must not be started before a fork
warm = json.loads(sys.stdin.readline())
os.chdir(warm["cwd"])
with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
    codes = [run(argv) for argv in warm["argv"]]
print(json.dumps(codes), flush=True)
for line in sys.stdin:
    req = json.loads(line)
    if req["op"] == "run":
        pid = os.fork()
        if pid == 0:
            child(req)
        print(pid, flush=True)
    else:
        print(os.waitpid(req["pid"], 0)[1], flush=True)
"""


@pytest.fixture(scope="module")
def runner(tiny, tmp_path_factory):
    """Runs izdat commands forked from one process that imported izdat once (start-up paid once)."""
    env = dict(os.environ, MPLBACKEND="Agg")
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True, env=env)
    warm = [["cut", tiny / "song.wav", "-o", "c", *SMALL, "--trim", "0.3", "--format", "svg,gcode,dxf,json,wav",
             "--xray", tiny / "xray.png"],
            ["dub", tiny / "song.wav", "-o", "d"], ["spread", "-o", "s", "--people", "100", "--years", "1946-1948"]]
    server.stdin.write(json.dumps({"cwd": str(tmp_path_factory.mktemp("warm")),
                                   "argv": [[str(a) for a in argv] for argv in warm]}) + "\n")
    server.stdin.flush()
    assert json.loads(server.stdout.readline()) == [0, 0, 0]

    def ask(**req) -> int:
        server.stdin.write(json.dumps(req) + "\n")
        server.stdin.flush()
        return int(server.stdout.readline())

    class Runner:
        def start(self, cwd, argv):
            return ask(op="run", cwd=str(cwd), argv=[str(a) for a in argv])

        def wait(self, pid):
            return ask(op="wait", pid=pid)

        def run(self, cwd, argv):
            t = time.monotonic()
            status = self.wait(self.start(cwd, argv))
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (argv, status)
            return time.monotonic() - t
    yield Runner()
    server.stdin.close()
    server.wait(30)
    print(f"\nwriters' fault test: {FIGURES['faults_injected']} faults injected, "
          f"{FIGURES['bytes_lost']} bytes of the user's data lost; SIGKILL left a staging folder "
          f"{FIGURES['stages_left_by_sigkill']} times, the folder mixed until the next run "
          f"{FIGURES['mixed_until_next_run']} times")


def state(folder: Path) -> dict:
    """The folder's content as a user sees it (hidden staging folders aside); summary.json less its timing."""
    out = tree(folder, hidden_stages=False)
    summary = folder / "summary.json"
    if summary.exists():
        data = json.loads(summary.read_text())
        data.pop("seconds", None)
        out["summary.json"] = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return out


def size_of(folder_state: dict, folder: Path) -> int:
    return sum((folder / p).stat().st_size for p, d in folder_state.items() if d not in ("dir", "fifo")
               and not d.startswith("link:") and (folder / p).exists())


def kill_loop(runner, tmp_path, argv_old, argv_new, out, *, kills, seed):
    """Kill ``argv_new`` runs into ``out`` (first filled by ``argv_old``) ``kills`` times; check each kill."""
    rng = np.random.default_rng(seed)
    run_s = runner.run(tmp_path, argv_old)
    (out / "notes.txt").write_text("the user's own notes")
    old = state(out)
    history = []            # (signal, state right after the kill, state after the next run's clean-up)
    faults = finished = 0
    while faults < kills:
        sig = signal.SIGKILL if rng.random() < 0.5 else signal.SIGTERM
        delay = rng.uniform(0.0, 1.0) * run_s
        t = time.monotonic()
        pid = runner.start(tmp_path, argv_new)
        time.sleep(max(0.0, delay - (time.monotonic() - t)))
        os.kill(pid, sig)
        status = runner.wait(pid)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
            finished += 1   # it had finished before the signal: not a fault, but its time is the run's time
            run_s = min(run_s, time.monotonic() - t)
            assert finished <= kills, "the kills keep missing the runs"
            history.append((sig, state(out), None))
            continue
        faults += 1
        at_once = state(out)
        if sig == signal.SIGTERM:
            assert (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 143) or \
                (os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM), status
            assert not stages(out), "SIGTERM left a staging folder"
            history.append((sig, at_once, None))
        else:
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status
            FIGURES["stages_left_by_sigkill"] += bool(stages(out))
            clean_stale(out)   # what the next run into the folder does first
            assert not stages(out), "the staging folder of a killed run was not cleaned"
            history.append((sig, at_once, state(out)))
    runner.run(tmp_path, argv_new)   # a later successful run into the same place
    assert not stages(out), "a staging folder is left after a successful run"
    new = state(out)
    assert new != old and new["notes.txt"] == old["notes.txt"]
    previous = old
    for i, (sig, at_once, cleaned) in enumerate(history):
        final = cleaned if cleaned is not None else at_once
        if final not in (previous, new):
            FIGURES["bytes_lost"] += size_of(previous, out)
        assert final in (previous, new), (
            f"kill {i} ({sig.name}) left the folder neither as before nor complete: differs from before in "
            f"{sorted(k for k in set(final) | set(previous) if final.get(k) != previous.get(k))}, from the new "
            f"output in {sorted(k for k in set(final) | set(new) if final.get(k) != new.get(k))}")
        if sig == signal.SIGTERM:
            assert at_once in (previous, new)
        FIGURES["mixed_until_next_run"] += at_once not in (previous, new)
        previous = final
    FIGURES["faults_injected"] += faults
    return faults, finished


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    t = np.arange(RATE // 2) / RATE
    soundfile.write(folder / "song.wav", 0.4 * np.sin(2 * np.pi * 440 * t), RATE)
    from PIL import Image
    Image.fromarray((np.random.default_rng(0).random((32, 32)) * 255).astype(np.uint8)).save(folder / "xray.png")
    return folder


def test_cut_killed_at_random_points_keeps_the_old_record_or_writes_the_whole_new_one(runner, tiny, tmp_path):
    base = ["cut", tiny / "song.wav", "-o", "rec", *SMALL, "--trim", "0.3", "--xray", tiny / "xray.png"]
    faults, _ = kill_loop(runner, tmp_path, base + ["--seed", "0"], base + ["--seed", "1"], tmp_path / "rec",
                          kills=20, seed=15)
    assert faults == 20


def test_dub_killed_at_random_points_keeps_the_old_tapes_or_writes_all_the_new_ones(runner, tiny, tmp_path):
    base = ["dub", tiny / "song.wav", "-o", "tapes", "-n", "3"]
    faults, _ = kill_loop(runner, tmp_path, base + ["--seed", "0"], base + ["--seed", "1"], tmp_path / "tapes",
                          kills=20, seed=16)
    assert faults == 20


def test_spread_killed_at_random_points_keeps_the_old_world_or_writes_the_whole_new_one(runner, tmp_path):
    base = ["spread", "-o", "world", "--people", "100", "--years", "1946-1948"]
    faults, _ = kill_loop(runner, tmp_path, base + ["--seed", "0"], base + ["--seed", "1"], tmp_path / "world",
                          kills=20, seed=17)
    assert faults == 20


def test_erase_killed_at_random_points_keeps_the_old_tape_or_writes_the_whole_new_one(runner, tiny, tmp_path):
    (tmp_path / "erased").mkdir()
    base = ["erase", tiny / "song.wav", "-o", tmp_path / "erased" / "left.wav"]
    faults, _ = kill_loop(runner, tmp_path, base + ["--seed", "0"], base + ["--seed", "1"], tmp_path / "erased",
                          kills=20, seed=18)
    assert faults == 20


def test_age_killed_at_random_points_keeps_the_old_picture_or_writes_the_whole_new_one(runner, tiny, tmp_path):
    runner.run(tmp_path, ["cut", tiny / "song.wav", "-o", "rec", *SMALL, "--trim", "0.3", "--format", "png,json",
                          "--xray", tiny / "xray.png"])
    (tmp_path / "aged").mkdir()
    base = ["age", tmp_path / "rec" / "record.png", "-o", tmp_path / "aged" / "photo.png"]
    faults, _ = kill_loop(runner, tmp_path, base + ["--seed", "0"], base + ["--seed", "1"], tmp_path / "aged",
                          kills=20, seed=19)
    assert faults == 20


def test_listen_killed_at_random_points_keeps_the_old_copy_or_writes_the_whole_new_one(runner, tiny, tmp_path):
    import sqlite3
    runner.run(tmp_path, ["spread", "-o", "world", "--people", "2000", "--years", "1946-1990", "--seed", "3"])
    con = sqlite3.connect(tmp_path / "world" / "lineage.sqlite")
    copy = con.execute("SELECT id FROM copies ORDER BY generation DESC, id LIMIT 1").fetchone()[0]
    con.close()
    (tmp_path / "heard").mkdir()
    base = ["listen", tmp_path / "world" / "lineage.sqlite", copy, tiny / "song.wav",
            "-o", tmp_path / "heard" / "copy.wav"]
    faults, _ = kill_loop(runner, tmp_path, base + ["--seed", "0"], base + ["--seed", "1"], tmp_path / "heard",
                          kills=20, seed=20)
    assert faults == 20


def test_clean_stale_removes_temporary_files_of_killed_processes_but_not_of_live_ones(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    from izdat.files import _host, _owner_tag
    gone = tmp_path / f".photo.png.{_host()}-{int(dead.stdout)}-1-abc123.part.png"
    mine = tmp_path / f".song.wav.{_owner_tag()}-def456.part.wav"
    users = tmp_path / ".photo.png.notes.part.png"          # a user's own hidden file that looks alike
    for p in (gone, mine, users):
        p.write_bytes(b"x")
    clean_stale(tmp_path)
    assert not gone.exists() and mine.exists() and users.exists()


@pytest.mark.parametrize("maker", ["mkstemp", "mkdtemp"])
def test_a_sigterm_held_while_the_temporary_is_made_leaves_nothing(tmp_path, monkeypatch, maker):
    """The signal held while the temporary file (or staging folder) is made lands inside the clean-up."""
    import izdat.files as files
    (tmp_path / "left.wav").write_bytes(b"old")
    real = getattr(files.tempfile, maker)

    def make_then_signal(*args, **kwargs):
        made = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)      # arrives while signals are held
        return made
    monkeypatch.setattr(files.tempfile, maker, make_then_signal)

    def stop(signum, frame):
        raise SystemExit(143)
    before = signal.signal(signal.SIGTERM, stop)
    try:
        with pytest.raises(SystemExit):
            if maker == "mkstemp":
                with atomic_path(tmp_path / "left.wav") as tmp:
                    tmp.write_bytes(b"new")
            else:
                with staged_folder(tmp_path) as stage:
                    (stage / "left.wav").write_bytes(b"new")
    finally:
        signal.signal(signal.SIGTERM, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["left.wav"]
    assert (tmp_path / "left.wav").read_bytes() == b"old"
