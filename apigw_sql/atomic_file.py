"""Files written all or nothing: a report export replaces the previous one only once it is whole.

``write_replacing`` writes into a temporary file beside the target and renames it over the target,
so a failed write (a full disk, a size limit, Ctrl-C) leaves the previous file as it was;
``writable_problem`` says before a long run whether that can work at all.
"""
from __future__ import annotations

import os
import tempfile

# Temporary files being written: a front end that leaves abruptly (Ctrl-C) removes them.
PARTIAL: set[str] = set()


def writable_problem(path: str) -> str | None:
    """Why ``path`` cannot be written by write_replacing (a sentence saying what to do), or None.

    >>> writable_problem("/no/such/folder/report.html")
    'the folder /no/such/folder does not exist: create it or pick another path'
    """
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        return f"is a folder: name a file, e.g. {os.path.join(path, 'report.html')}"
    if not os.path.isdir(folder):
        return f"the folder {folder} does not exist: create it or pick another path"
    try:  # a real file, not os.access: permissions, read-only mounts and quotas all show
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".apigw-sql-", suffix=".probe"):
            pass
    except OSError as exc:
        return f"cannot write in {folder} ({exc.strerror}): pick a folder you can write to"
    return None


def write_replacing(path: str, text: str) -> None:
    """Write ``text`` to ``path`` all or nothing: into a temporary file beside it, then renamed over it.

    A failed write raises OSError and leaves the previous file whole; the new file keeps the old one's mode.
    """
    folder = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".part")
    PARTIAL.add(temporary)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # what open(path, "w") would have made
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        remove(temporary)
        raise
    finally:
        PARTIAL.discard(temporary)


def remove_partial() -> None:
    """Remove the temporary files of writes still running (the process is about to leave without them)."""
    for temporary in list(PARTIAL):
        remove(temporary)


def remove(path: str) -> None:
    """Remove a temporary file, or a temporary folder (a snapshot being staged) with what it holds."""
    if os.path.isdir(path):
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        return
    try:
        os.unlink(path)
    except OSError:
        pass
