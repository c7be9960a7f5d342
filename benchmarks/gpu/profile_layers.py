"""Where a network's time goes: PyTorch's profiler over warm eager forwards, per operator
and input shape, in float32 (TF32 convolutions, PyTorch's default) and half precision.

    python benchmarks/gpu/profile_layers.py --device cuda --size 1920x1080 [--variant standard]

The bench says how fast a frame is; this says which layers make it so (the 9x9 convolutions
on 3 channels at full resolution, the residual blocks, the norms), which is what a faster
network or kernel choice has to change. Prints one markdown section per precision.
"""

from __future__ import annotations

import argparse
import statistics

import torch
from torch.profiler import ProfilerActivity, profile

from livestyle.bench.candidates import eager_step
from livestyle.bench.timing import measure_interleaved, synchronizer
from livestyle.commands.bench import parse_size
from livestyle.core.precision import dtype_of
from livestyle.engines.layout_norm import with_layout_norm
from livestyle.model import VARIANTS, TransformerNet


def profile_one(
    variant: str, size: tuple[int, int], device: torch.device, precision: str, runs: int, rows: int
) -> str:
    dtype = dtype_of(precision)
    net = TransformerNet(VARIANTS[variant]).eval()
    # The app's half-precision network: float32 norm statistics (LayoutInstanceNorm), NCHW.
    net = (with_layout_norm(net) if dtype != torch.float32 else net).to(device, dtype)
    width, height = size
    x = torch.rand(1, 3, height, width, device=device, dtype=dtype)
    # Warm-up runs first: cudnn.benchmark picks its kernels in them.
    sync = synchronizer(device)
    seconds = measure_interleaved({"forward": eager_step(net, x)}, runs, 3, sync)
    median = 1000 * statistics.median(seconds["forward"])
    with torch.inference_mode():
        activities = [ProfilerActivity.CPU]
        if device.type == "cuda":
            activities.append(ProfilerActivity.CUDA)
        with profile(activities=activities, record_shapes=True) as prof:
            for _ in range(runs):
                net(x)
            sync()
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
