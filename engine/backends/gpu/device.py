"""The wgpu adapters of this machine, and the one device the GPU backend uses.

:func:`list_adapters` describes every adapter wgpu finds (name, type, graphics backend,
limits) without creating a device; :func:`open_device` requests a device from one of them
with the adapter's own limits (wgpu's defaults would cap a storage binding at 128 MiB and a
buffer at 256 MiB on any GPU) and estimates its memory, from which the backend takes its
budget. ``engine/backends/detect.py`` ranks the adapters; it never imports wgpu itself.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
from dataclasses import dataclass, field

#: Graphics APIs in order of preference for compute; OpenGL (GLES compute) comes last.
API_RANK = {"Vulkan": 0, "Metal": 0, "D3D12": 0, "OpenGL": 2}
#: Adapter types of GPUs, best first (lavapipe and SwiftShader report "CPU"; OpenGL
#: adapters often report "Unknown").
REAL_TYPES = ("DiscreteGPU", "IntegratedGPU", "VirtualGPU")
NVIDIA_VENDOR_ID = 0x10DE
DEFAULT_MEMORY = 4 * 2**30  # when the memory of a GPU cannot be found out


@dataclass(frozen=True)
class AdapterInfo:
    """One wgpu adapter as ``mattebox backends`` lists it.

    ``index`` is its position in ``wgpu.gpu.enumerate_adapters_sync()``; ``software`` is
    True for CPU adapters such as lavapipe (correct, but slower than numba).
    """

    index: int
    name: str
    type: str
    api: str
    vendor_id: int
    limits: dict = field(repr=False, compare=False)

    @property
    def software(self) -> bool:
        """A CPU implementation (lavapipe, SwiftShader, WARP), not a GPU."""
        return self.type == "CPU"

    @property
    def max_binding(self) -> int:
        return int(self.limits.get("max-storage-buffer-binding-size", 0))

    def rank(self) -> tuple:
        """Sort key: real GPUs (discrete first) before software, Vulkan/Metal/D3D12 before GL."""
        kind = REAL_TYPES.index(self.type) if self.type in REAL_TYPES else len(REAL_TYPES)
        return (self.software, API_RANK.get(self.api, 1), kind, self.index)

    def describe(self) -> str:
        kind = "software" if self.software else self.type
        return (
            f"{self.name} ({kind}, {self.api}; max binding "
            f"{self.max_binding / 2**20:.0f} MiB, max buffer "
            f"{int(self.limits.get('max-buffer-size', 0)) / 2**20:.0f} MiB)"
        )


def _wgpu():
    import wgpu

    return wgpu


@contextlib.contextmanager
def _quiet_stderr():
    """Silence what drivers print on the C level while probing (Mesa's EGL complains
    about XDG_RUNTIME_DIR on headless machines)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def list_adapters() -> list[AdapterInfo]:
    """Every adapter wgpu finds here, in wgpu's order; [] without wgpu or a driver."""
    try:
        wgpu = _wgpu()
        with _quiet_stderr():
            adapters = wgpu.gpu.enumerate_adapters_sync()
    except Exception:  # noqa: BLE001 - no wgpu library or no driver: no GPU here
        return []
    found = []
    for index, adapter in enumerate(adapters):
        info = adapter.info
        found.append(
            AdapterInfo(
                index=index,
                name=str(info.get("device") or info.get("description") or "unknown"),
                type=str(info.get("adapter_type", "Unknown")),
                api=str(info.get("backend_type", "Unknown")),
                vendor_id=int(info.get("vendor_id", 0) or 0),
                limits=dict(adapter.limits),
            )
        )
    return found


class GpuDevice:
    """One wgpu device on a chosen adapter, with its limits and an estimate of its memory.

    The device is requested from that adapter alone (by its index, checked against its
    name), so a process pinned to GPU 1 (``MATTEBOX_GPU=1``) never touches GPU 0.

    Attributes
    ----------
    info : AdapterInfo
    device : wgpu.GPUDevice
    limits : dict
        The device's limits (the adapter's own, requested in full).
    memory : int
        Bytes of device memory (see :func:`device_memory`).
    """

    def __init__(self, info: AdapterInfo):
        wgpu = _wgpu()
        with _quiet_stderr():
            adapters = wgpu.gpu.enumerate_adapters_sync()
        adapter = adapters[info.index] if info.index < len(adapters) else None
        found = adapter and str(adapter.info.get("device") or adapter.info.get("description"))
        if found != info.name:  # the adapters changed since they were listed
            raise RuntimeError(f"GPU adapter {info.index} ({info.name!r}) is gone")
        self.info = info
        self.device = adapter.request_device_sync(
            label="mattebox", required_limits=dict(adapter.limits)
        )
        self.limits = dict(self.device.limits)
        self.memory = device_memory(info)

    @property
    def max_binding(self) -> int:
        """Largest storage-buffer binding in bytes (one image tile must fit in one)."""
        return min(
            int(self.limits["max-storage-buffer-binding-size"]),
            int(self.limits["max-buffer-size"]),
        )


def open_device(info: AdapterInfo) -> GpuDevice:
    """Request the device of ``info`` with the adapter's own limits."""
    return GpuDevice(info)


# --------------------------------------------------------------------------- memory


def device_memory(info: AdapterInfo) -> int:
    """Bytes of memory of the adapter's device, best effort (WebGPU does not say).

    A software adapter uses system memory. An NVIDIA GPU is asked through ``nvidia-smi``,
    an AMD one through sysfs; anything else is taken to have :data:`DEFAULT_MEMORY` (or its
    largest buffer, if larger).
    """
    if info.software:
        return _system_memory()
    found = 0
    if info.vendor_id == NVIDIA_VENDOR_ID:
        found = _nvidia_memory(info.name)
    if not found:
        found = _sysfs_vram()
    return found or max(DEFAULT_MEMORY, int(info.limits.get("max-buffer-size", 0)))


def _system_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return DEFAULT_MEMORY


def _nvidia_memory(name: str) -> int:
    tool = shutil.which("nvidia-smi")
    if not tool:
        return 0
    try:
        text = subprocess.run(
            [tool, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    sizes = []
    for line in text.strip().splitlines():
        gpu_name, _, mib = line.rpartition(",")
        try:
            size = int(float(mib)) * 2**20
        except ValueError:
            continue
        if gpu_name.strip() and gpu_name.strip() in name:
            return size
        sizes.append(size)
    return min(sizes) if sizes else 0


def _sysfs_vram() -> int:
    sizes = []
    for path in glob.glob("/sys/class/drm/card*/device/mem_info_vram_total"):
        try:
            with open(path) as handle:
                sizes.append(int(handle.read().strip()))
        except (OSError, ValueError):
            continue
    return max(sizes) if sizes else 0
