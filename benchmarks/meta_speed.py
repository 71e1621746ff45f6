"""Meta-training time on MovieLens-100K at default settings, and batched adaptation of 1,024 users.

.venv/bin/python benchmarks/meta_speed.py [--device auto|cpu|cuda] [--json]
"""

from __future__ import annotations

import argparse
import json

from recgym.data import load_dataset
from recgym.models.speed import run_speed_benchmark


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="movielens-100k")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = run_speed_benchmark(load_dataset(args.dataset), device=args.device, seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    adapt, machine = result["adaptation"], result["machine"]
    print(f"device {result['device']} ({machine['processor']}, {machine['torch_threads']} threads)")
    print(
        f"meta-training: {result['meta_training_seconds']:.1f} s, {result['epochs']} epochs "
        f"({result['seconds_per_epoch']:.2f} s/epoch), text={result['text']}"
    )
    print(
        f"adapt {adapt['users']} users ({adapt['inner_steps']} steps, "
        f"histories <= {adapt['history_len_max']}): {1000 * adapt['adapt_seconds']:.1f} ms; "
        f"score all items: {1000 * adapt['predict_all_items_seconds']:.1f} ms"
    )


if __name__ == "__main__":
    main()
