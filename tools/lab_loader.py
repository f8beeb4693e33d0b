"""Import one lab file (starter.py, solution.py or NAME.py) by path, as the tests do: for the
labs' benchmark scripts, which measure whichever implementation they are pointed at."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def load_lab_file(folder: Path, impl: str = "solution"):
    """Return folder/<impl>.py imported as its own module; a missing file is one clear line (SystemExit)."""
    path = folder / f"{impl.removesuffix('.py')}.py"
    if not path.exists():
        raise SystemExit(f"{path} does not exist; choose one of: {', '.join(p.stem for p in folder.glob('*.py'))}")
    name = f"{folder.name}_benchmark_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # worker processes and dataclasses look the module up here
    spec.loader.exec_module(module)
    return module
