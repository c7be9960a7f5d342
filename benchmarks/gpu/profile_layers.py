"""Where a network's time goes: PyTorch's profiler over warm eager forwards, per operator
and input shape, in float32 (TF32 convolutions, PyTorch's default) and half precision.

    python benchmarks/gpu/profile_layers.py --device cuda --size 1920x1080 [--variant standard]

The bench says how fast a frame is; this says which layers make it so (the 9x9 convolutions
on 3 channels at full resolution, the residual blocks, the norms), which is what a faster
network or kernel choice has to change. Prints one markdown section per precision.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

from livestyle.engines.layout_norm import with_layout_norm
from livestyle.model import VARIANTS, TransformerNet

DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def parse_size(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def forward_ms(net: torch.nn.Module, x: torch.Tensor, runs: int) -> float:
    """Median milliseconds of one warm forward (synchronized: the device's time, not launch)."""
    times = []
    for _ in range(runs):
        if x.is_cuda:
            torch.cuda.synchronize()
        began = time.perf_counter()
        net(x)
        if x.is_cuda:
            torch.cuda.synchronize()
        times.append((time.perf_counter() - began) * 1000)
    return sorted(times)[len(times) // 2]


def profile_one(
    variant: str, size: tuple[int, int], device: torch.device, precision: str, runs: int, rows: int
) -> str:
    dtype = DTYPES[precision]
    net = TransformerNet(VARIANTS[variant]).eval()
    # The app's half-precision network: float32 norm statistics (LayoutInstanceNorm), NCHW.
    net = (with_layout_norm(net) if dtype != torch.float32 else net).to(device, dtype)
    width, height = size
    x = torch.rand(1, 3, height, width, device=device, dtype=dtype)
    with torch.inference_mode():
        for _ in range(3):  # cudnn.benchmark picks its kernels in these
            net(x)
        median = forward_ms(net, x, runs)
        activities = [ProfilerActivity.CPU]
        if device.type == "cuda":
            activities.append(ProfilerActivity.CUDA)
        with profile(activities=activities, record_shapes=True) as prof:
            for _ in range(runs):
                net(x)
            if device.type == "cuda":
                torch.cuda.synchronize()
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    table = prof.key_averages(group_by_input_shape=True).table(sort_by=key, row_limit=rows)
    head = f"### {variant} {width}x{height} {precision} on {device}: median {median:.2f} ms/forward"
    return f"{head} ({runs} runs profiled)\n\n```\n{table}\n```\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--size", type=parse_size, default=(1920, 1080), help="WxH")
    parser.add_argument("--variant", default="standard", choices=sorted(VARIANTS))
    parser.add_argument("--precisions", default="fp32,fp16", help="comma-separated")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rows", type=int, default=25, help="operators shown per table")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    print(f"torch {torch.__version__}, cudnn TF32 {torch.backends.cudnn.allow_tf32}")
    for precision in args.precisions.split(","):
        print(profile_one(args.variant, args.size, device, precision, args.runs, args.rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
