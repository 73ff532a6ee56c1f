"""A self-check for the install, run in the first cell of every lesson."""

from __future__ import annotations

import asyncio
import sys
from importlib.metadata import PackageNotFoundError, version

from packaging.version import Version

from .i18n import t

NEEDED = {"websockets": "17", "ipywidgets": "8.1", "ipykernel": "7.3"}


def problems() -> list[str]:
    """What stands between this kernel and the lessons; empty when all is well."""
    found = []
    if sys.version_info < (3, 11):
        found.append(t("need_python", version=sys.version.split()[0]))
    for package, minimum in NEEDED.items():
        try:
            installed = version(package)
        except PackageNotFoundError:
            found.append(t("need_package", package=package, minimum=minimum, installed="-"))
            continue
        if Version(installed) < Version(minimum):
            found.append(t("need_package", package=package, minimum=minimum, installed=installed))
    if hasattr(asyncio, "_nest_patched"):  # the mark nest_asyncio.apply() leaves on asyncio
        found.append(t("nest_asyncio"))
    return found


def check_setup() -> None:
    """Say that everything is ready, or raise with what to install."""
    found = problems()
    if found:
        raise RuntimeError("\n".join([t("setup_broken"), *found]))
    print(t("setup_ok"))
