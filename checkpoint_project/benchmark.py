"""Train and evaluate named runs, then print one table (accuracy, training time).

    python checkpoint_project/benchmark.py --data-dir /tmp/cifar fast                  # your starter.py
    python checkpoint_project/benchmark.py --impl solution --data-dir DIR gpu94 "gpu94 --epochs 16" "fast --lr 0.6"
    python checkpoint_project/benchmark.py --impl solution --data-dir DIR --seeds 0,1,2 fast   # mean / min over seeds

Each argument is a config name followed by optional overrides of train's options. Every run is
`train` then `evaluate --split test` in fresh processes, exactly the commands the README lists:
speedrun.py for its configs (gpu94, cpu90), its options and its network (--arch whiten), your starter.py (--impl solution: the
reference) for the others; the table reads their metrics JSON files. Results also go to
OUT/benchmark.json. Timing is training wall time (including per-epoch validation), not decoding
and not the untimed warm-up (cuDNN autotuning on CUDA, compilation with --compile), which has
a column of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPEEDRUN_CONFIGS = {"gpu94", "cpu90"}
SPEEDRUN_FIELDS = {"whiten_eps", "bias_lr_scale", "decay_biases", "bn_scale_trainable", "lr_start", "lr_end", "whiten_bias_epochs",
                   "dirac_init", "lookahead"}


def run(command: list[str]) -> None:
    print("$", " ".join(map(shlex.quote, command)), flush=True)
    subprocess.run(command, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help='e.g. fast  or  "gpu94 --epochs 16"')
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", default="runs/benchmark")
    parser.add_argument("--impl", default="starter", help="which file of this folder to run for the non-speedrun configs "
                        "(default starter: yours; solution, NAME)")
    parser.add_argument("--seeds", help="comma-separated seeds: every run once per seed (--seed S), then a row of the mean, "
                        "min and max test accuracy over them")
    args = parser.parse_args()
    specs = [f"{spec} --seed {seed}" for spec in args.runs for seed in args.seeds.split(",")] if args.seeds else args.runs
    print(f"load average at the start: {os.getloadavg()}", flush=True)
    results = []
    for number, spec in enumerate(specs):
        name, *overrides = shlex.split(spec)
        speedrun = (name in SPEEDRUN_CONFIGS or any(flag.lstrip("-").replace("-", "_") in SPEEDRUN_FIELDS for flag in overrides)
                    or "--arch whiten" in " ".join(overrides))
        script = str(HERE / ("speedrun.py" if speedrun else f"{args.impl}.py"))
        out = Path(args.out) / f"{number:02d}-{name}"
        started = time.perf_counter()
        try:
            run([sys.executable, script, "train", "--config", name, "--data-dir", args.data_dir, "--out", str(out), *overrides])
            run([sys.executable, script, "evaluate", "--checkpoint", str(out / "last.pt"), "--data-dir", args.data_dir,
                 "--split", "test", "--out", str(out / "eval")])
        except subprocess.CalledProcessError as error:
            results.append({"run": spec, "error": str(error)})
            continue
        trained = json.loads((out / "metrics.json").read_text())
        tested = json.loads((out / "eval" / "metrics.json").read_text())
        results.append({
            "run": spec, "test_accuracy": tested["accuracy"], "tta": tested["tta"],
            "train_seconds": trained["train_seconds"], "warmup_seconds": trained.get("warmup_seconds", 0.0), "epochs": trained["history"][-1]["epoch"],
            "device": trained["device"], "wall_seconds": time.perf_counter() - started,
            "load_average": os.getloadavg()[0],
        })
        print(json.dumps(results[-1]), flush=True)
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "benchmark.json").write_text(json.dumps(results, indent=2))  # after every run
    print(f"\n{'run':44}{'test acc':>9}{'train s':>9}{'warm-up s':>10}{'epochs':>7}  device")
    for r in results:
        if "error" in r:
            print(f"{r['run']:44}  failed: {r['error']}")
        else:
            print(f"{r['run']:44}{r['test_accuracy']:>9.4f}{r['train_seconds']:>9.1f}{r['warmup_seconds']:>10.1f}"
                  f"{r['epochs']:>7}  {r['device']}")
    for spec in args.runs if args.seeds else []:
        done = [r for r in results if "error" not in r and r["run"].rsplit(" --seed ", 1)[0] == spec]
        if done:
            accuracy = [r["test_accuracy"] for r in done]
            print(f"{spec + f' ({len(done)} seeds)':44}  mean {sum(accuracy) / len(accuracy):.4f}, min {min(accuracy):.4f}, "
                  f"max {max(accuracy):.4f}; train s mean {sum(r['train_seconds'] for r in done) / len(done):.1f}")
    print(f"load average at the end: {os.getloadavg()}")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
