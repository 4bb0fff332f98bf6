"""Folders a C or C++ program needs to build against the installed runtime.

A wheel carries them inside the package (include/, lib/, lib/pkgconfig/,
lib/cmake/xpuruntime/). An editable install has none there: it runs the
extension module from the build folder's python/, and the build folder
mirrors those folders (nothing records the build folder's path).
"""

import os

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _installed_or_built(folder):
    path = os.path.join(_PACKAGE_DIR, folder)
    if os.path.isdir(path):
        return path
    from . import _core

    build_root = os.path.dirname(os.path.dirname(os.path.abspath(_core.__file__)))
    return os.path.join(build_root, folder)


def get_include():
    """Folder holding ``xpuruntime/xpuruntime.h`` (pass it to ``-I``)."""
    return _installed_or_built("include")


def get_lib_dir():
    """Folder holding ``libxpuruntime.so.<major>`` (and the plugins, in ``plugins/``)."""
    return _installed_or_built("lib")


def get_pkgconfig_dir():
    """Folder holding ``xpuruntime.pc``, for ``PKG_CONFIG_PATH``."""
    return _installed_or_built(os.path.join("lib", "pkgconfig"))


def get_cmake_dir():
    """Folder holding ``xpuruntimeConfig.cmake``, for ``-Dxpuruntime_DIR=``."""
    return _installed_or_built(os.path.join("lib", "cmake", "xpuruntime"))
