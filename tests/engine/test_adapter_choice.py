"""Choosing a GPU adapter: MATTEBOX_GPU / --gpu by index or by a part of a name, the
adapters --dask local-gpus starts workers for, and what `mattebox backends` lists."""

from __future__ import annotations

import pytest

from mattebox.app import cli
from mattebox.engine.backends import detect
from mattebox.engine.backends.gpu.device import AdapterInfo

LIMITS = {"max-storage-buffer-binding-size": 2**31, "max-buffer-size": 2**32 - 2**21}


def _machine() -> list[AdapterInfo]:
    """Two H100s through Vulkan, the first again through OpenGL, and lavapipe, in an
    enumeration order that is not the ranking's."""
    found = [
        AdapterInfo(0, "llvmpipe (LLVM 15.0.6, 256 bits)", "CPU", "Vulkan", 0x10005, LIMITS),
        AdapterInfo(1, "NVIDIA H100 80GB HBM3", "DiscreteGPU", "Vulkan", 0x10DE, LIMITS),
        AdapterInfo(2, "NVIDIA H100 80GB HBM3", "DiscreteGPU", "Vulkan", 0x10DE, LIMITS),
        AdapterInfo(3, "NVIDIA H100 80GB HBM3/PCIe/SSE2", "Unknown", "OpenGL", 0x10DE, LIMITS),
    ]
    return sorted(found, key=lambda a: a.rank())


@pytest.fixture
def machine(monkeypatch):
    found = _machine()
    monkeypatch.setattr(detect, "_adapters", found)
    for key in ("MATTEBOX_GPU", "MATTEBOX_GPU_ADAPTER", "MATTEBOX_BACKEND"):
        monkeypatch.delenv(key, raising=False)
    return {a.index: a for a in found}


def test_parse_gpu_choice():
    assert detect.parse_gpu_choice("1") == [1]
    assert detect.parse_gpu_choice(" H100 ") == ["h100"]
    assert detect.parse_gpu_choice("0, 2,,Quadro") == [0, 2, "quadro"]
    assert detect.parse_gpu_choice("") == [] and detect.parse_gpu_choice(None) == []


def test_mattebox_gpu_pins_one_adapter_by_index_or_name(machine, monkeypatch):
    assert detect.gpu_adapter() is machine[1]  # no choice: the best
    monkeypatch.setenv("MATTEBOX_GPU", "2")
    assert detect.gpu_adapter() is machine[2]
    assert detect.choose("auto") == "gpu"
    monkeypatch.setenv("MATTEBOX_GPU", "0")  # lavapipe, asked for by index
    assert detect.gpu_adapter() is machine[0]
    assert detect.choose("auto") == "cpu"  # auto still never renders on a software GPU
    assert detect.choose("gpu") == "gpu"
    monkeypatch.setenv("MATTEBOX_GPU", "sse2")  # a part of a name, case ignored
    assert detect.gpu_adapter() is machine[3]
    monkeypatch.setenv("MATTEBOX_GPU", "h100")  # several match: the best of them
    assert detect.gpu_adapter() is machine[1]
    monkeypatch.delenv("MATTEBOX_GPU")
    monkeypatch.setenv("MATTEBOX_GPU_ADAPTER", "llvmpipe")  # the older spelling
    assert detect.gpu_adapter() is machine[0]


def test_a_choice_that_names_no_adapter_is_an_error_not_another_gpu(machine, monkeypatch):
    monkeypatch.setenv("MATTEBOX_GPU", "7")
    with pytest.raises(ValueError, match=r"MATTEBOX_GPU=7: no adapter 7 here \(adapters 0: "):
        detect.gpu_adapter()
    with pytest.raises(ValueError, match="no adapter 7"):
        detect.choose("auto")  # never a silent render on another device
    assert not detect.available("gpu")
    assert detect.why_unavailable("gpu").startswith("MATTEBOX_GPU=7: no adapter 7")
    assert detect.choose("cpu") == "cpu"  # the CPU does not care
    monkeypatch.setenv("MATTEBOX_GPU", "radeon")
    with pytest.raises(ValueError, match="no adapter named like 'radeon'"):
        detect.gpu_adapter()
    monkeypatch.setenv("MATTEBOX_GPU", "1,2")
    with pytest.raises(ValueError, match="a process uses one GPU adapter"):
        detect.gpu_adapter()


def test_local_gpus_takes_each_real_gpu_once(machine):
    # The OpenGL adapter is the first H100 again and lavapipe is no GPU: two workers.
    assert detect.worker_gpus() == [machine[1], machine[2]]
    assert detect.worker_gpus("2,0") == [machine[2], machine[0]]  # named: as given
    assert detect.worker_gpus("h100") == [machine[1], machine[2], machine[3]]
    with pytest.raises(ValueError, match=r"--gpu 5: no adapter 5 here"):
        detect.worker_gpus("5")


def test_local_gpus_on_a_machine_without_gpus(monkeypatch):
    software = AdapterInfo(0, "llvmpipe", "CPU", "Vulkan", 0x10005, LIMITS)
    monkeypatch.setattr(detect, "_adapters", [software])
    assert detect.worker_gpus() == []
    assert detect.worker_gpus("0") == [software]  # asked for by index: a lavapipe worker


def test_backends_lists_each_adapter_with_its_index(machine, monkeypatch, capsys):
    monkeypatch.setenv("MATTEBOX_GPU", "2")
    assert cli.main(["backends"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "backends, best first:"
    ranked = [line.split(". ", 1)[1] for line in lines[1:6]]
    assert [line.split()[0] for line in ranked] == ["gpu", "gpu", "gpu", "cpu", "gpu"]
    by_index = {int(line.split("adapter ")[1].split(":")[0]): line for line in ranked[:3]}
    by_index[0] = ranked[4]
    assert sorted(by_index) == [0, 1, 2, 3]
    for index, line in by_index.items():
        assert machine[index].describe() in line
        assert line.endswith("<- the GPU backend's adapter") == (index == 2)
    assert "--dask local-gpus: 2 GPU worker(s), adapter(s) 1, 2" in lines
    assert lines[-1] == "choice: gpu (MATTEBOX_GPU=2)"


def test_backends_says_why_a_pinned_gpu_cannot_run(machine, monkeypatch, capsys):
    monkeypatch.setenv("MATTEBOX_GPU", "9")
    assert cli.main(["backends"]) == 0
    out = capsys.readouterr().out
    assert "  gpu: MATTEBOX_GPU=9: no adapter 9 here" in out
    assert out.strip().splitlines()[-1] == "choice: none (MATTEBOX_GPU=9)"
