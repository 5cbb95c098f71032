"""A generated service of a few thousand files, shaped like a real one: an entry that mounts feature
modules, each with its own folders of small ES modules, a few broken imports, and dormant modules."""

from __future__ import annotations

import json
from pathlib import Path

MODULES = 30  # src/modules/m00 ... m29
FOLDERS = 10  # per module: parts/p0 ... p9
FILES = 10  # per folder
DORMANT_MODULES = 3  # the last ones: nothing imports them


def write_big_project(root: Path) -> Path:
    """Write MODULES * FOLDERS * FILES + MODULES + 1 files (3,031 with the defaults) under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(
        json.dumps({"name": "big", "version": "1.0.0", "type": "module", "main": "src/index.js"})
    )
    mounted = MODULES - DORMANT_MODULES
    entry = [f"import m{m:02d} from './modules/m{m:02d}/index.js';" for m in range(mounted)]
    entry.append(f"export default [{', '.join(f'm{m:02d}' for m in range(mounted))}];")
    _write(root / "src" / "index.js", "\n".join(entry) + "\n")
    for m in range(MODULES):
        base = root / "src" / "modules" / f"m{m:02d}"
        heads = [f"import p{p} from './parts/p{p}/f0.js';" for p in range(FOLDERS)]
        heads.append(f"export default [{', '.join(f'p{p}' for p in range(FOLDERS))}];")
        _write(base / "index.js", "\n".join(heads) + "\n")
        for p in range(FOLDERS):
            for f in range(FILES):
                _write(base / "parts" / f"p{p}" / f"f{f}.js", _file(m, p, f))
    return root


def _file(m: int, p: int, f: int) -> str:
    lines = []
    if f + 1 < FILES:
        lines.append(f"import next from './f{f + 1}.js';")
    if f == 0 and p + 1 < FOLDERS:
        lines.append(f"import sibling from '../p{p + 1}/f1.js';")  # across folders
    if f == 3 and m % 7 == 0 and p == 2:
        lines.append("import { gone } from '../../../../lib/gone.js';")  # a red edge: no such file
    if f == 5 and m == 4 and p == 6:
        lines.append(f"import shared from '../../../m{m + 1:02d}/parts/p0/f9.js';")  # across modules
    lines.append(f"export default 'm{m}p{p}f{f}';")
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


HEAVY_FILES = 600
_BLOCK = """
export function handler{n}(request, reply) {{
  const {{ id, name = 'x', ...rest }} = request.params ?? {{}};
  if (!id || typeof id !== 'string') {{
    return reply.code(400).send({{ error: `bad id ${{id}}`, rest }});
  }}
  for (const [key, value] of Object.entries(rest)) {{
    if (value?.length > 10) console.log(key, value.slice(0, 10));
  }}
  return reply.send({{ id, name, at: Date.now() }});
}}
"""


def write_heavy_project(root: Path, files: int = HEAVY_FILES, blocks: int = 30) -> Path:
    """Some hundred files of ~12 KB of ordinary code (5 MB): a cold check spends seconds parsing them."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps({"name": "heavy", "version": "1.0.0", "type": "module"}))
    _write(root / "index.js", "".join(f"import './lib/f{i}.js';\n" for i in range(files)))
    for i in range(files):
        _write(root / "lib" / f"f{i}.js", "".join(_BLOCK.format(n=f"{i}_{b}") for b in range(blocks)))
    return root
