"""The chart library the HTML report inlines: TradingView's lightweight-charts (Apache-2.0).

It is not in the repository: the build step (``setup.py``) fetches the pinned release from the
npm registry when tradewire is installed, checks it against the registry's integrity hash and
puts the standalone bundle, its licence and its version in ``_assets/`` beside this module.
The report's own script (``_report.js``) is ours and ships with the package.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable

from .._errors import ConfigError

_LIBRARY = "lightweight-charts.js"
_VERSION = "lightweight-charts.VERSION"


@functools.cache
def chart_library() -> tuple[str, str]:
    """(version, JavaScript) of the chart library; ConfigError saying how to get it if the
    install did not fetch it."""
    return read_chart_library(resources.files("framework.reports").joinpath("_assets"))


def read_chart_library(assets: Traversable) -> tuple[str, str]:
    """:func:`chart_library` from the folder ``assets``."""
    try:
        script = assets.joinpath(_LIBRARY).read_text(encoding="utf-8")
        version = assets.joinpath(_VERSION).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        raise ConfigError(
            "the HTML report needs TradingView's lightweight-charts, which tradewire fetches "
            "from the npm registry when it is installed, and it is missing "
            f"({assets}/{_LIBRARY}). Install again with access to registry.npmjs.org: "
            "pip install -e . in a checkout (pip install --force-reinstall tradewire "
            "otherwise); without network access, set TRADEWIRE_LIGHTWEIGHT_CHARTS_TGZ to a "
            "downloaded lightweight-charts tarball first (docs/reports.md)"
        ) from None
    # Inlined in a <script> element, the text must not end it early.
    return version, script.replace("</script", "<\\/script")


@functools.cache
def report_script() -> str:
    """The report's own script: builds the charts from the page's JSON."""
    return resources.files("framework.reports").joinpath("_report.js").read_text(encoding="utf-8")
