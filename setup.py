"""Build step: fetch the chart library of the HTML report from the npm registry.

The report draws its charts with TradingView's lightweight-charts (Apache-2.0). Third-party
JavaScript is never committed to this repository, so every build (``pip install .``, a wheel,
and ``pip install -e .``) downloads the pinned release from the npm registry, checks the
tarball against the integrity hash the registry publishes for it, and puts the standalone
production bundle and its licence into ``framework/reports/_assets/``:

- editable installs write them into the source tree (git ignores the folder), where the
  installed package finds them;
- other builds copy them into the build directory, using a copy already in the source tree
  when its hash is the pinned one.

Offline: ``TRADEWIRE_LIGHTWEIGHT_CHARTS_TGZ=/path/to/lightweight-charts-<version>.tgz`` uses a
tarball fetched elsewhere (checked the same way); ``npm_config_registry`` points at an npm
mirror. ``TRADEWIRE_SKIP_CHART_LIBRARY=1`` installs without it (the HTML report then says how
to get it). To move to another release, set the three pins below from
``npm view lightweight-charts@<version> dist.integrity`` and the bundle's sha256.

Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build import build

LIGHTWEIGHT_CHARTS_VERSION = "5.3.0"
#: ``dist.integrity`` of the release on the npm registry: sha512 of the tarball.
LIGHTWEIGHT_CHARTS_INTEGRITY = (
    "sha512-w16fu2/FteUkIJdgc9G2tOCKs1fwFSqnqF8+kMgHGv0uGIfcfpEJhziSaQbML1yrkbeg4nQXV3msjmhBzhLNhw=="
)
#: sha256 of the bundle inside it, to recognise a copy already extracted.
LIGHTWEIGHT_CHARTS_SHA256 = "338a625ece52c5b85fb026e222dad5d0f365f745060afbfae96bda91636142e9"

ROOT = Path(__file__).resolve().parent
ASSETS = Path("framework", "reports", "_assets")
#: Member of the tarball → file name in ASSETS.
MEMBERS = {
    "package/dist/lightweight-charts.standalone.production.js": "lightweight-charts.js",
    "package/LICENSE": "lightweight-charts.LICENSE",
}
VERSION_FILE = "lightweight-charts.VERSION"
DEFAULT_REGISTRY = "https://registry.npmjs.org/"
DOWNLOAD_TIMEOUT_S = 60


class BuildChartLibrary(Command):
    """Put lightweight-charts into framework/reports/_assets (see the module docstring)."""

    description = "fetch the report's chart library (lightweight-charts) from the npm registry"
    user_options: list[tuple[str, str | None, str]] = []
    editable_mode = False

    def initialize_options(self) -> None:
        self.build_lib: str | None = None

    def finalize_options(self) -> None:
        self.set_undefined_options("build_py", ("build_lib", "build_lib"))

    def _names(self) -> list[str]:
        return [*MEMBERS.values(), VERSION_FILE]

    def get_source_files(self) -> list[str]:
        return []

    def get_outputs(self) -> list[str]:
        if os.environ.get("TRADEWIRE_SKIP_CHART_LIBRARY"):
            return []
        assert self.build_lib is not None
        return [str(Path(self.build_lib, ASSETS, name)) for name in self._names()]

    def get_output_mapping(self) -> dict[str, str]:
        if not self.editable_mode or os.environ.get("TRADEWIRE_SKIP_CHART_LIBRARY"):
            return {}
        assert self.build_lib is not None
        return {
            str(Path(self.build_lib, ASSETS, name)): str(ASSETS / name) for name in self._names()
        }

    def run(self) -> None:
        if os.environ.get("TRADEWIRE_SKIP_CHART_LIBRARY"):
            print("TRADEWIRE_SKIP_CHART_LIBRARY is set: the HTML report will lack its charts")
            return
        source = ROOT / ASSETS
        if self.editable_mode:
            if not _is_current(source):
                _write(source, _fetch())
            return
        assert self.build_lib is not None
        target = Path(self.build_lib, ASSETS)
        if _is_current(source):
            target.mkdir(parents=True, exist_ok=True)
            for name in self._names():
                shutil.copyfile(source / name, target / name)
        else:
            _write(target, _fetch())


def _is_current(folder: Path) -> bool:
    bundle = folder / MEMBERS["package/dist/lightweight-charts.standalone.production.js"]
    try:
        digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    except OSError:
        return False
    return digest == LIGHTWEIGHT_CHARTS_SHA256 and all(
        (folder / name).is_file() for name in [*MEMBERS.values(), VERSION_FILE]
    )


def _fetch() -> dict[str, bytes]:
    """The files to write, from the checked tarball."""
    tarball = _tarball()
    algorithm, _, expected = LIGHTWEIGHT_CHARTS_INTEGRITY.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode()
    if actual != expected:
        raise SystemExit(
            f"lightweight-charts {LIGHTWEIGHT_CHARTS_VERSION}: the tarball's {algorithm} is "
            f"{actual}, not the pinned {expected}; refusing to use it"
        )
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member, name in MEMBERS.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                raise SystemExit(f"lightweight-charts tarball has no file {member}")
            files[name] = extracted.read()
    bundle = files[MEMBERS["package/dist/lightweight-charts.standalone.production.js"]]
    if hashlib.sha256(bundle).hexdigest() != LIGHTWEIGHT_CHARTS_SHA256:
        raise SystemExit("lightweight-charts: the bundle in the checked tarball is not the pinned one")
    files[VERSION_FILE] = f"{LIGHTWEIGHT_CHARTS_VERSION}\n".encode()
    return files


def _tarball() -> bytes:
    local = os.environ.get("TRADEWIRE_LIGHTWEIGHT_CHARTS_TGZ")
    if local:
        return Path(local).read_bytes()
    registry = os.environ.get("npm_config_registry") or os.environ.get("NPM_CONFIG_REGISTRY")
    registry = (registry or DEFAULT_REGISTRY).rstrip("/")
    name = f"lightweight-charts-{LIGHTWEIGHT_CHARTS_VERSION}.tgz"
    url = f"{registry}/lightweight-charts/-/{name}"
    print(f"fetching {url}")
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            data: bytes = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise SystemExit(
            f"could not fetch the report's chart library from {url}: {exc}\n"
            "tradewire's HTML report draws its charts with it. Without access to the npm "
            f"registry, download {name} elsewhere and install with "
            f"TRADEWIRE_LIGHTWEIGHT_CHARTS_TGZ=/path/to/{name}, point npm_config_registry at a "
            "mirror, or set TRADEWIRE_SKIP_CHART_LIBRARY=1 to install without it."
        ) from exc
    return data


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        partial = folder / f".{name}.part"
        partial.write_bytes(data)
        partial.replace(folder / name)


class BuildWithChartLibrary(build):
    sub_commands = [*build.sub_commands, ("build_chart_library", None)]


setup(cmdclass={"build": BuildWithChartLibrary, "build_chart_library": BuildChartLibrary})
