"""Files only their owner can read: the log cache, downloaded logs and the shell's history.

They hold audit evidence and the queries typed, so whatever the umask: folders 0700, files 0600.
`private_dir` creates every missing folder 0700 (as the XDG base directory specification asks of
the base folders too) and tightens the folders apigw-sql owns (the ones passed as `owned`, e.g.
``~/.cache/apigw-sql``) when they exist with looser modes; folders above those (``~/.cache``,
``$XDG_CACHE_HOME``) are the user's, and are left as they are when they exist.
"""
from __future__ import annotations

import hashlib
import os
import stat
import sys
import threading
import tempfile
from pathlib import Path

from .errors import ApigwSqlError

DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    """chmod to `mode` when the current mode differs; a path someone else owns is left alone."""
    try:
        info = path.lstat()
        if stat.S_IMODE(info.st_mode) != mode and info.st_uid == os.geteuid():
            os.chmod(path, mode)
    except OSError:
        pass  # not ours to change, or gone: using it fails later with a clear error


def private_dir(path: Path, owned: Path | None = None) -> Path:
    """Creates `path` and its missing parents 0700; folders from `owned` down to `path` are made 0700.

    `owned` (an ancestor of `path`, or `path` itself) is the first folder that belongs to
    apigw-sql; its existing modes are tightened, the modes of folders above it are not.
    """
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:
            pass  # made meanwhile by another thread or process
        _tighten(folder, DIR_MODE)  # the umask may have removed bits; 0700 exactly
    if owned is not None and path.is_relative_to(owned):  # never above what apigw-sql owns
        folder = path
        while True:
            _tighten(folder, DIR_MODE)
            if folder == owned or folder.parent == folder:
                break
            folder = folder.parent
    return path


def private_file(path: Path) -> Path:
    """Creates `path` (empty) 0600 if missing, else tightens its mode to 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def write_private_atomically(path: Path, data: bytes) -> None:
    """Writes `data` to `path` 0600 through a temporary file in the same folder and a rename.

    A reader never sees a half-written file, and a failed write leaves the previous one in place.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp makes the file 0600
            fh.write(data)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def cache_root(kind: str = "cloudtrail") -> Path:
    """Where apigw-sql keeps what it fetched of one kind (``cloudtrail`` and ``access-logs`` log objects,
    ``calls``): under $XDG_CACHE_HOME/apigw-sql, else ~/.cache/apigw-sql."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "apigw-sql" / kind


class UntrustedFile(ApigwSqlError, ValueError):
    """A kept file that someone else could have written; the message says why."""


def read_private(path: Path) -> tuple[bytes, os.stat_result]:
    """The bytes (and the status, for its identity) of a file only this user could have written: opened without following a symbolic link,
    a regular file, owned by the user and writable by nobody else (the folders above are the caller's to
    check). Raises FileNotFoundError when it is missing, UntrustedFile otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:  # a symbolic link (ELOOP), a file we may not read
        raise UntrustedFile(f"it cannot be opened safely ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UntrustedFile("it is not a regular file")
        if info.st_uid != os.geteuid():
            raise UntrustedFile("it is not yours")
        if info.st_mode & 0o022:
            raise UntrustedFile(f"it is writable by others (mode {stat.S_IMODE(info.st_mode):o})")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(), info
    finally:
        os.close(fd)


def source_digest(modules: tuple[str, ...]) -> str:
    """A digest of the tool's version and of the source of these modules of the package: what a kept file
    built by that code is keyed by, so that a changed tool never reads what an older one kept."""
    from . import __version__

    digest = hashlib.sha256(__version__.encode())
    here = Path(__file__).parent
    for name in modules:
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            digest.update(b"?")
    return digest.hexdigest()


class RefusalNotice:
    """Counts the kept files of one kind refused, and says so on stderr for the first one only."""

    def __init__(self, what: str, instead: str, root: Path):
        self.what = what        # "call cache file"
        self.instead = instead  # what is done instead: "the call is made live"
        self.root = root        # the folder to delete to start afresh
        self.count = 0
        self._lock = threading.Lock()

    def refuse(self, path: Path, why: str) -> None:
        with self._lock:
            self.count += 1
            if self.count > 1:
                return
        print(f"warning: the {self.what} {path} is not used: {why}; {self.instead} "
              f"(delete {self.root} to start afresh; further refused files are not shown)", file=sys.stderr)
