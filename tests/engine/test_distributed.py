"""Frames spread over Dask workers: the same files as a local render, chunks of consecutive
frames per worker, one progress update per finished frame, a failed frame reported once
while the others are written, and workers pinned to their GPU through the environment.

One local cluster of two CPU worker processes serves the module (CI has no GPU); the
command line reaches it through its address."""

from __future__ import annotations

import threading
import time

import numpy as np
import OpenImageIO as oiio
import pytest

import mattebox as mb
from mattebox.app import cli
from mattebox.engine import distributed
from mattebox.engine.backends import detect
from mattebox.engine.backends.gpu.device import AdapterInfo
from tests.conftest import random_image, write_exr


@pytest.fixture(scope="module")
def client():
    from distributed import Client

    with distributed.local_cluster([], cpu_workers=2) as cluster, Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        yield client


def _pixels(path) -> np.ndarray:
    return oiio.ImageBuf(str(path)).get_pixels(oiio.FLOAT)


def _plates(folder, frames, missing=()) -> str:
    """A sequence of random plates (16x10) with ``missing`` frames left out."""
    for frame in frames:
        if frame not in missing:
            write_exr(folder / f"plate.{frame:04d}.exr", random_image(10, 16, seed=frame))
    return str(folder / "plate.####.exr")


def _comp(tmp_path, frames=range(1, 9), missing=(), size=(16, 10), writes=("Out",)) -> str:
    """Read of a plate sequence -> Grade animated over the range -> Write(s); saved."""
    g = mb.Graph()
    g.settings.format = mb.Format(*size)
    g.settings.frame_range = (frames[0], frames[-1])
    read = g.add("Read", name="Read1", file=_plates(tmp_path, frames, missing), colorspace="Raw")
    gain = {"keys": [[frames[0], 0.5], [frames[-1], 2.0]]}
    grade = g.add("Grade", name="Grade1", inputs={"Source": read}, gain=gain)
    for name in writes:
        g.add(
            "Write",
            name=name,
            inputs={"Source": grade},
            file=str(tmp_path / "out" / f"{name}.####.exr"),
            datatype="float",
            colorspace="Raw",
        )
    path = tmp_path / "comp.mbx"
    g.save(path)
    return str(path)


def _expected(script, frame) -> np.ndarray:
    """The frame as Grade's formula gives it: the plate's colour times the gain keyed at
    that frame, negatives clamped to 0 (black_clamp); alpha as it was."""
    graph = mb.load(script)
    first, last = graph.settings.frame_range
    gain = 0.5 + (2.0 - 0.5) * (frame - first) / (last - first)
    plate = random_image(10, 16, seed=frame).astype(np.float64)
    plate[..., :3] = np.maximum(plate[..., :3] * gain, 0.0)
    return plate


# --------------------------------------------------------------------------- rendering


def test_frames_over_two_workers_match_the_formula_and_a_local_render(client, tmp_path):
    script = _comp(tmp_path, writes=("Out", "Local"))
    outcome = distributed.execute(script, range(1, 9), writes=["Out"], scheduler=client, chunk=3)
    assert [p.rsplit("/", 1)[-1] for p in outcome.written] == [
        f"Out.{f:04d}.exr" for f in range(1, 9)
    ]
    assert outcome.failed == [] and {r.device for r in outcome.results} == {"cpu"}
    graph = mb.load(script)
    graph.execute([graph["Local"]], frames=range(1, 9))
    for frame in range(1, 9):
        ours = _pixels(tmp_path / "out" / f"Out.{frame:04d}.exr")
        np.testing.assert_allclose(ours, _expected(script, frame), rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(ours, _pixels(tmp_path / "out" / f"Local.{frame:04d}.exr"))


def test_chunks_of_consecutive_frames_stay_on_one_worker(client, tmp_path):
    script = _comp(tmp_path, frames=range(1, 13))
    order: list[tuple[str, int]] = []
    outcome = distributed.execute(
        script,
        range(1, 13),
        scheduler=client,
        chunk=3,
        progress=lambda done, total, r: order.append((r.worker, r.frame)),
    )
    assert [group for group, _ in outcome.chunks] == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    by_frame = {r.frame: r.worker for r in outcome.results}
    for group, worker in outcome.chunks:
        assert {by_frame[f] for f in group} == {worker}  # the whole chunk on its worker
    assert {worker for _, worker in outcome.chunks} == {"cpu0", "cpu1"}  # both busy
    for group, worker in outcome.chunks:  # a chunk's frames one after the other, in order
        assert [f for w, f in order if f in group] == group


def test_auto_chunk_and_chunks():
    assert list(distributed.chunks(list(range(7)), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    first = next(distributed.chunks(range(1, 10**12 + 1), 16))  # made lazily
    assert first == list(range(1, 17))
    assert distributed.auto_chunk(100, 8) == 4  # 25 chunks for 8 GPUs
    assert distributed.auto_chunk(100, 1) == distributed.MAX_AUTO_CHUNK
    assert distributed.auto_chunk(3, 2) == 1


class _Stop(Exception):
    pass


def test_a_range_of_a_trillion_frames_starts_at_once_with_few_tasks(client, tmp_path, monkeypatch):
    # -f 1-1000000000000 --dask: the first frames arrive within seconds, and only a
    # window of chunks is ever submitted (none made as a list up front).
    g = mb.Graph()
    g.settings.format = mb.Format(8, 6)
    constant = g.add("Constant", color=[0.25, 0.5, 0.75, 1.0])
    out = str(tmp_path / "o.####.exr")
    g.add("Write", name="Out", inputs={"Source": constant}, file=out, colorspace="Raw")
    script = tmp_path / "long.mbx"
    g.save(script)
    submitted = []
    submit = client.submit
    monkeypatch.setattr(client, "submit", lambda *a, **k: submitted.append(a[3]) or submit(*a, **k))
    ticks = []

    def progress(done, total, result):
        assert total == 10**12 and result.ok, result.error
        ticks.append(result.frame)
        if len(ticks) == 3:
            raise _Stop

    start = time.perf_counter()
    with pytest.raises(_Stop):
        distributed.execute(
            script, range(1, 10**12 + 1), scheduler=client, chunk=2, progress=progress
        )
    assert time.perf_counter() - start < 60
    assert set(ticks) <= {1, 2, 3, 4, 5, 6, 7, 8} and len(ticks) == 3
    # two workers' window, plus the chunks that replaced ones already finished by the time
    # the third frame's event was read (a race: 17 was seen once); a list of the range
    # would be 5 * 10^11 tasks
    assert len(submitted) <= 4 * distributed.CHUNKS_IN_FLIGHT
    assert submitted[:2] == [[1, 2], [3, 4]]
    frame = _pixels(tmp_path / f"o.{ticks[0]:04d}.exr")
    np.testing.assert_array_equal(frame, np.broadcast_to([0.25, 0.5, 0.75, 1.0], (6, 8, 4)))


def test_chunks_beyond_the_window_are_submitted_as_others_finish(client, tmp_path, monkeypatch):
    script = _comp(tmp_path, frames=range(1, 13))
    monkeypatch.setattr(distributed, "CHUNKS_IN_FLIGHT", 1)  # 2 chunks at a time, 6 in all
    outcome = distributed.execute(script, range(1, 13), scheduler=client, chunk=2)
    assert [group for group, _ in outcome.chunks] == [[f, f + 1] for f in range(1, 13, 2)]
    assert [r.frame for r in outcome.results] == list(range(1, 13)) and not outcome.failed
    for frame in (1, 6, 12):
        ours = _pixels(tmp_path / "out" / f"Out.{frame:04d}.exr")
        np.testing.assert_allclose(ours, _expected(script, frame), rtol=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- progress


def test_progress_ticks_once_per_frame_as_frames_finish(client, tmp_path):
    # Frames that take a while (a blur of 384x256), 6 per chunk: were progress per chunk,
    # a chunk's six ticks would come together when it ends.
    g = mb.Graph()
    g.settings.format = mb.Format(384, 256)
    noise = g.add("Noise")
    blur = g.add("Blur", inputs={"Source": noise}, size={"keys": [[1, 8.0], [12, 12.0]]})
    for name in ("A", "B"):
        g.add("Write", name=name, inputs={"Source": blur}, file=str(tmp_path / f"{name}.####.exr"))
    script = tmp_path / "slow.mbx"
    g.save(script)
    ticks = []
    caller = threading.get_ident()

    def progress(done, total, result):
        assert threading.get_ident() == caller  # on the caller's thread (a tqdm bar is safe)
        ticks.append((time.perf_counter(), done, total, result))

    outcome = distributed.execute(
        script, range(1, 13), scheduler=client, chunk=6, progress=progress
    )
    assert [t[1] for t in ticks] == list(range(1, 25))  # monotonic, one per file
    assert {t[2] for t in ticks} == {24}
    assert sorted((t[3].frame, t[3].write) for t in ticks) == [
        (f, w) for f in range(1, 13) for w in ("A", "B")
    ]
    assert len(outcome.written) == 24 and not outcome.failed
    for group, worker in outcome.chunks:
        times = [t[0] for t in ticks if t[3].frame in group]
        work = sum(t[3].seconds for t in ticks if t[3].frame in group[1:])
        assert max(times) - min(times) > 0.5 * work  # ticks spread over the chunk's work


# --------------------------------------------------------------------------- failures


def test_one_bad_frame_fails_alone(client, tmp_path):
    script = _comp(tmp_path, missing=(4,))
    ticks = []
    outcome = distributed.execute(
        script, range(1, 9), scheduler=client, chunk=2, progress=lambda *a: ticks.append(a)
    )
    assert [t[0] for t in ticks] == list(range(1, 9))  # the failed frame ticks too
    (failed,) = outcome.failed
    assert (failed.frame, failed.write) == (4, "Out") and failed.path is None
    assert failed.error.startswith("Read1: ") and "plate.0004.exr" in failed.error
    assert "\n" not in failed.error
    assert outcome.failed_frames() == [4]
    for frame in (1, 2, 3, 5, 6, 7, 8):  # its chunk's other frame (3) included
        ours = _pixels(tmp_path / "out" / f"Out.{frame:04d}.exr")
        np.testing.assert_allclose(ours, _expected(script, frame), rtol=1e-6, atol=1e-7)
    assert not (tmp_path / "out" / "Out.0004.exr").exists()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_the_command_line_reports_a_failed_frame_once_and_exits_non_zero(client, tmp_path, capsys):
    script = _comp(tmp_path, missing=(4,))
    address = client.scheduler.address
    assert cli.main(["render", script, "-f", "1-8", "--dask", address, "--chunk", "2"]) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 2, err
    assert errors[0].strip().startswith("error: frame 4: Read1: ")
    assert errors[1] == "error: 1 of 8 frame(s) failed: 4"
    assert "wrote 7 file(s)" in err and "cpu0: " in err and "cpu1: " in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        f"Out.{f:04d}.exr" for f in (1, 2, 3, 5, 6, 7, 8)
    ]
    assert cli.main(["render", script, "-f", "1-3,5", "--dask", address, "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_a_lost_worker_fails_the_frames_it_did_not_finish():
    class Lost:
        status = "error"

        def exception(self):
            return RuntimeError("worker tcp://10.0.0.7:4000 died\ntraceback")

    ticks = []
    tally = distributed._Tally(4, lambda *a: ticks.append(a))
    tally.take(distributed.FrameResult(5, "Out", path="/o.0005.exr", worker="gpu1"))
    tally.settle([5, 6], ["Out", "Alpha"], Lost())
    assert [t[0] for t in ticks] == [1, 2, 3, 4]
    failed = {k: r.error for k, r in tally.results.items() if not r.ok}
    assert sorted(failed) == [(5, "Alpha"), (6, "Alpha"), (6, "Out")]  # frame 5's Out landed
    assert set(failed.values()) == {
        "RuntimeError: worker tcp://10.0.0.7:4000 died (the worker running it was lost)"
    }


# --------------------------------------------------------------------------- clusters


def test_local_cluster_workers_are_pinned_through_the_environment():
    gpus = [AdapterInfo(i, "NVIDIA H100", "DiscreteGPU", "Vulkan", 0x10DE, {}) for i in (0, 3)]
    spec = distributed.worker_spec(gpus, cpu_workers=2, cores=16)
    assert list(spec) == ["gpu0", "gpu3", "cpu0", "cpu1"]
    envs = {name: entry["options"]["env"] for name, entry in spec.items()}
    assert envs["gpu3"] == {
        "MATTEBOX_GPU": "3",
        "MATTEBOX_BACKEND": "gpu",
        "NUMBA_NUM_THREADS": "4",
    }
    assert envs["cpu1"] == {"MATTEBOX_BACKEND": "cpu", "NUMBA_NUM_THREADS": "4"}
    assert {entry["options"]["nthreads"] for entry in spec.values()} == {1}  # a frame at a time


def test_local_gpus_without_a_gpu_asks_for_cpu_workers(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(detect, "_adapters", [])
    script = _comp(tmp_path)
    assert cli.main(["render", script, "--dask", "local-gpus", "-q"]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: --dask local-gpus: no GPU here (mattebox backends lists the adapters); "
        "add --cpu-workers N to render on CPU worker processes"
    )
    assert cli.main(["render", script, "--dask", "tcp://127.0.0.1:1", "--cpu-workers", "2"]) == 1
    assert "start the workers with MATTEBOX_GPU set" in capsys.readouterr().err
    assert cli.main(["render", script, "--dask", "threads"]) == 1
    assert "expected local-gpus, processes or a scheduler address" in capsys.readouterr().err


def test_render_gpu_option_pins_this_process(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MATTEBOX_GPU", "")  # restored after the test
    script = _comp(tmp_path)
    assert cli.main(["render", script, "-f", "1", "--gpu", "9", "-q"]) == 1
    assert capsys.readouterr().err.startswith("error: MATTEBOX_GPU=9: no adapter 9 here")
    with pytest.raises(SystemExit, match=r"--gpu 0,1: one adapter \(several: --dask local-gpus\)"):
        cli.main(["render", script, "-f", "1", "--gpu", "0,1", "-q"])


def test_a_gpu_worker_renders_on_the_adapter_it_is_pinned_to(tmp_path):
    """A local-gpus cluster of one worker pinned to the first adapter (lavapipe here)."""
    if not detect.adapters():
        pytest.skip(detect.why_unavailable("gpu"))
    adapter = min(detect.adapters(), key=lambda a: a.index)
    script = _comp(tmp_path, frames=range(1, 4))
    outcome = distributed.execute(
        script, range(1, 4), scheduler="local-gpus", gpus=str(adapter.index)
    )
    assert not outcome.failed
    assert {r.worker for r in outcome.results} == {f"gpu{adapter.index}"}
    assert {r.device for r in outcome.results} == {f"gpu {adapter.index} ({adapter.name})"}
    for frame in range(1, 4):
        ours = _pixels(tmp_path / "out" / f"Out.{frame:04d}.exr")
        np.testing.assert_allclose(ours, _expected(script, frame), rtol=1e-5, atol=1e-6)


def test_mattebox_worker_serves_a_scheduler_with_pinned_workers(client):
    """``mattebox worker ADDRESS`` joins this module's cluster: its workers carry the
    pinning environment, render, and leave on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys

    gpu = [] if not detect.adapters() else ["--gpu", "0"]
    command = [sys.executable, "-m", "mattebox.app.cli", "worker", client.scheduler.address]
    server = subprocess.Popen(
        [*command, *gpu, "--cpu-workers", "1", "--name", "extra"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client.wait_for_workers(4 if gpu else 3, timeout=120)
        workers = client.scheduler_info()["workers"]
        names = {info["name"]: address for address, info in workers.items()}
        assert "extra-cpu0" in names and ("extra-gpu0" in names) == bool(gpu)

        def environment():
            return os.environ.get("MATTEBOX_BACKEND"), os.environ.get("MATTEBOX_GPU")

        found = client.run(environment, workers=[names[n] for n in names if n.startswith("extra")])
        assert found[names["extra-cpu0"]] == ("cpu", None)
        if gpu:
            assert found[names["extra-gpu0"]] == ("gpu", "0")
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    deadline = time.monotonic() + 30
    while len(client.scheduler_info()["workers"]) > 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert {info["name"] for info in client.scheduler_info()["workers"].values()} == {
        "cpu0",
        "cpu1",
    }
