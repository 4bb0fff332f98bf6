"""Folders a C or C++ program needs to build against the installed runtime.

A wheel carries them inside the package (include/, lib/, lib/pkgconfig/).
An editable install has none there; it falls back to the build tree that
_build_info records.
"""

import os

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _installed_or_built(installed, built):
    path = os.path.join(_PACKAGE_DIR, installed)
    if os.path.isdir(path):
        return path
    from . import _build_info

    return getattr(_build_info, built)


def get_include():
    """Folder holding ``xpuruntime/xpuruntime.h`` (pass it to ``-I``).

    In an editable install this is the source tree's include/, and the
    generated ``xpuruntime_version.h`` sits in the build folder that the
    pkg-config file adds; build with pkg-config there.
    """
    return _installed_or_built("include", "include_dir")


def get_lib_dir():
    """Folder holding ``libxpuruntime.so``."""
    return _installed_or_built("lib", "lib_dir")


def get_pkgconfig_dir():
    """Folder holding ``xpuruntime.pc``, for ``PKG_CONFIG_PATH``."""
    return _installed_or_built(os.path.join("lib", "pkgconfig"), "pkgconfig_dir")
