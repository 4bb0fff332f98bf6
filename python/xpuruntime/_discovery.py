"""Where the runtime looks for the libraries other wheels ship.

Only installed packages are searched: sys.path without the entries that
stand for the working directory (``python -c``, ``-m`` and the REPL put it
first, as '' or as its absolute path) and without relative entries, so a
library planted in the working directory is never loaded. The working
directory stays only where PYTHONPATH or a site-packages folder names it.
Packages are located without being imported (no import cost, no code run).
"""

import glob
import importlib.machinery
import os
import site
import sys


def install_folders():
    """The sys.path entries a library may be loaded from."""
    try:
        cwd = os.getcwd()
    except OSError:  # a deleted working directory
        cwd = None
    named = {os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    named.update(os.path.abspath(p) for p in site.getsitepackages())
    if site.ENABLE_USER_SITE:
        named.add(os.path.abspath(site.getusersitepackages()))
    return [
        entry for entry in sys.path
        if isinstance(entry, str) and os.path.isabs(entry)
        and (os.path.abspath(entry) != cwd or os.path.abspath(entry) in named)
    ]


def package_folders(package):
    """The folders of an installed package (several for a namespace package)."""
    try:
        spec = importlib.machinery.PathFinder.find_spec(package, install_folders())
    except (ImportError, ValueError, OSError):  # a broken install must not break ours
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return list(spec.submodule_search_locations)


def find_library(package, pattern):
    """The path of the library matching ``pattern`` inside ``package``, or None."""
    for folder in package_folders(package):
        candidates = sorted(glob.glob(os.path.join(folder, pattern)))
        # A fully versioned file (libonnxruntime.so.1.22.0) is the real one.
        candidates.sort(key=lambda path: (os.path.islink(path), -len(path)))
        if candidates:
            return os.path.abspath(candidates[0])
    return None


def point_plugin_at(env_var, package, pattern):
    """Sets ``env_var`` (which a plugin dlopens) to the library a wheel
    ships, unless the variable is set already."""
    if os.environ.get(env_var):
        return
    path = find_library(package, pattern)
    if path is not None:
        os.environ[env_var] = path
