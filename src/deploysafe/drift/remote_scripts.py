"""The two programs deploysafe runs on a host, as text: one inventory, one file fetch.

Both start in POSIX ``sh``, enter the directory (``current`` when it is a deployed layout: a ``current``
symlink beside ``releases/``), and use python3 when the host has it, else GNU tools.

Inventory stream on stdout, every record NUL-terminated, so names with spaces, newlines and bytes that
are not UTF-8 pass unchanged::

    deploysafe-inventory 1 TOOL   release (empty when not deployed)   real directory
    SIZE PATH ...                 one per regular file
    (empty record)                end of the listing: the client now sends the names to hash on stdin
    SHA256  PATH ...              one per hashed file (``sha256sum`` without ``-z``: newline lines)
    !PATH  MESSAGE                (python3 only) a file that could not be read, as two records

Exit 90: the directory is not there. Exit 91: neither python3 nor sha256sum with GNU find.
"""

from __future__ import annotations

from deploysafe.ecosystems.node.files import ALWAYS_SKIPPED_DIRS

NO_DIRECTORY = 90
NO_TOOLS = 91
MAGIC = b"deploysafe-inventory 1 "
FETCH_MAGIC = b"deploysafe-fetch 1\0"  # printed before the tar stream: anything earlier is a login script's

_SKIP_NAMES = sorted(ALWAYS_SKIPPED_DIRS)

_ENTER = r"""
cd -- "$1" 2>/dev/null || { printf 'no such directory on the host: %s\n' "$1" >&2; exit 90; }
release=
if [ -L current ] && [ -d releases ] && [ -d current/ ]; then
  release=$(readlink current)
  cd -P current || exit 90
fi
here=$(pwd -P)
"""

_PRUNE = " -o ".join(f"-name {name}" for name in _SKIP_NAMES)

INVENTORY_SH = (
    _ENTER
    + r"""
if command -v python3 >/dev/null 2>&1; then
  exec python3 -c "$2" "$release" "$here"
fi
if command -v sha256sum >/dev/null 2>&1 && command -v xargs >/dev/null 2>&1 \
   && find . -maxdepth 0 -printf '' >/dev/null 2>&1; then
  z=-z
  sha256sum -z /dev/null >/dev/null 2>&1 || z=
  printf 'deploysafe-inventory 1 sha256sum%s\0%s\0%s\0' "$z" "$release" "$here"
  find -L . -mindepth 1 \( -type d \( PRUNE -o -xtype l \) -prune \) -o -type f -printf '%s %P\0'
  printf '\0'
  exec xargs -0 -r sha256sum $z --
fi
echo "neither python3 nor sha256sum (with GNU find) is installed" >&2
exit 91
""".replace("PRUNE", _PRUNE)
)

# Python 3.5 or later: no f-strings, nothing newer than os.walk, os.readv and hashlib.
INVENTORY_PY = r"""
import hashlib, os, stat, sys
out = sys.stdout.buffer
SKIP = set(SKIPNAMES)
out.write(b"deploysafe-inventory 1 python3\0" + os.fsencode(sys.argv[1]) + b"\0" + os.fsencode(sys.argv[2]) + b"\0")
def failed(err):
    sys.stderr.write("%s\n" % (err,))
for top, dirs, files in os.walk(b".", onerror=failed):
    dirs[:] = [d for d in dirs if d not in SKIP and not os.path.islink(os.path.join(top, d))]
    for name in files:
        path = os.path.join(top, name)
        try:
            info = os.stat(path)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            out.write(str(info.st_size).encode() + b" " + path[2:] + b"\0")
out.write(b"\0")
out.flush()
buf = bytearray(1 << 20)
view = memoryview(buf)
for name in sys.stdin.buffer.read().split(b"\0"):
    if not name:
        continue
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(0, "not a regular file")
            digest = hashlib.sha256()
            while True:
                n = os.readv(fd, [buf])
                if not n:
                    break
                digest.update(view[:n])
        finally:
            os.close(fd)
    except OSError as err:
        message = err.strerror or str(err)
        out.write(b"!" + name + b"\0" + message.encode("utf-8", "replace") + b"\0")
        continue
    out.write(digest.hexdigest().encode() + b"  " + name + b"\0")
out.flush()
""".replace("SKIPNAMES", repr([n.encode() for n in _SKIP_NAMES]))

# Fetch: NUL-separated names on stdin; on stdout FETCH_MAGIC, then an uncompressed tar of those files
# (links followed).
FETCH_SH = r"""
cd -- "$1" 2>/dev/null || { printf 'no such directory on the host: %s\n' "$1" >&2; exit 90; }
printf 'deploysafe-fetch 1\0'
if command -v python3 >/dev/null 2>&1; then
  exec python3 -c "$2"
fi
exec tar -chf - --null --no-recursion -T -
"""

FETCH_PY = r"""
import os, sys, tarfile
names = [n for n in sys.stdin.buffer.read().split(b"\0") if n]
with tarfile.open(fileobj=sys.stdout.buffer, mode="w|", format=tarfile.PAX_FORMAT, dereference=True) as tar:
    for name in names:
        try:
            tar.add(os.fsdecode(name), recursive=False)
        except OSError as err:
            sys.stderr.write("%s\n" % (err,))
"""
