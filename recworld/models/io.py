"""Saving and loading models: one ``model.safetensors`` plus one ``config.json`` per directory.

Nothing is ever unpickled. Writes go to temporary files renamed into place, so an interrupted
save leaves the previous files (or none), never half of one. A missing, corrupt or mismatched file
raises `ModelFileError`, which names the file and says what to do.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


class ModelFileError(ValueError):
    """A saved model that cannot be read: names the file and says what to do."""

    def __init__(self, path: str | Path, problem: str, hint: str) -> None:
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem} — {hint}")


def save_model_files(
    directory: str | Path, kind: str, tensors: Mapping[str, Tensor], config: Mapping[str, Any]
) -> Path:
    """Write ``tensors`` and ``config`` (plus ``kind`` and the format version) into ``directory``."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    body = {"kind": kind, "format_version": FORMAT_VERSION, **config}
    weights = {name: t.detach().to("cpu").contiguous().clone() for name, t in tensors.items()}
    tmp_weights = directory / f".{WEIGHTS}.partial-{os.getpid()}"
    tmp_config = directory / f".{CONFIG}.partial-{os.getpid()}"
    try:
        save_file(weights, str(tmp_weights), metadata={"kind": kind, "format_version": str(FORMAT_VERSION)})
        tmp_config.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        tmp_weights.replace(directory / WEIGHTS)
        tmp_config.replace(directory / CONFIG)
    finally:
        tmp_weights.unlink(missing_ok=True)
        tmp_config.unlink(missing_ok=True)
    return directory


def load_model_files(
    directory: str | Path, kind: str, *, device: str | torch.device = "cpu"
) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Read back what `save_model_files` wrote; checks the kind and the format version."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    config_path, weights_path = directory / CONFIG, directory / WEIGHTS
    if not directory.is_dir():
        raise ModelFileError(directory, "no such model directory", "give a directory written by `save`")
    for path in (config_path, weights_path):
        if not path.exists():
            raise ModelFileError(path, "missing", f"a saved model directory holds {CONFIG} and {WEIGHTS}")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ModelFileError(config_path, f"not valid JSON ({err})", "save the model again") from err
    if not isinstance(config, dict):
        raise ModelFileError(config_path, "is not a JSON object", "save the model again")
    if config.get("kind") != kind:
        raise ModelFileError(
            config_path,
            f"holds a model of kind {config.get('kind')!r}, expected {kind!r}",
            "load it with the class that saved it",
        )
    if config.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            config_path,
            f"format version {config.get('format_version')!r}, this recworld reads {FORMAT_VERSION}",
            "save the model again with this recworld version",
        )
    try:
        tensors = load_file(str(weights_path), device=str(device))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ModelFileError(
            weights_path, f"is not a readable safetensors file ({err})", "the file is corrupt: save again"
        ) from err
    return tensors, config


def check_tensors(
    path: str | Path, tensors: Mapping[str, Tensor], expected: Mapping[str, tuple[int, ...]]
) -> None:
    """Raise `ModelFileError` unless ``tensors`` has exactly the expected names and shapes."""
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ModelFileError(
            path,
            f"tensors do not match the config (missing {missing}, unexpected {extra})",
            "the weights and config.json come from different models: save the model again",
        )
    for name, shape in expected.items():
        if tuple(tensors[name].shape) != tuple(shape):
            raise ModelFileError(
                path,
                f"tensor {name!r} has shape {tuple(tensors[name].shape)}, the config says {tuple(shape)}",
                "the weights and config.json come from different models: save the model again",
            )
