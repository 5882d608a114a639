"""Where the command center keeps its files: one project root decides every default path.

The root is ``ECC_HOME`` when it is set, else the checkout this package runs from
(``make install`` installs it in place, so that is the folder you cloned). Every
command, started from any folder, and every process the hub starts (whose working
folder is the hub's) resolve the same database, hub folder, outputs and mail folder from
it: no default depends on the current directory.

Code that ships with the checkout (the dashboard notebooks, the report schedules,
``jupyterhub_config.py``) is found beside the package, whatever ``ECC_HOME`` says.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from . import variables

#: The checkout: the folder holding ``ecc/``, ``notebooks/`` and ``pyproject.toml``.
CHECKOUT = Path(__file__).resolve().parents[1]


#: What Voilà and Jupyter read of the project's own (a Jupyter data folder): the
#: ``ecc`` page template with its styles, and Voilà's settings.
VOILA_FILES = Path(__file__).resolve().parent / "ui" / "voila_files"
#: The pages' stylesheet (the live pages, the static ones and the reports).
APP_CSS = VOILA_FILES / "voila" / "templates" / "ecc" / "static" / "ecc.css"


def home(env: Mapping[str, str] | None = None) -> Path:
    """The project root: ``ECC_HOME`` (made absolute) when set, else the checkout; an
    installed copy without a checkout keeps its files in ``~/.local/share/ecc``."""
    env = os.environ if env is None else env
    given = variables.value("ECC_HOME", env)
    if given:
        return Path(given).expanduser().resolve()
    if (CHECKOUT / "pyproject.toml").is_file():
        return CHECKOUT
    xdg = env.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "ecc"


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``<root>/data``: the SQLite database, the hub's state and the demo's mail."""
    return home(env) / "data"


def sqlite_path(env: Mapping[str, str] | None = None) -> Path:
    """The embedded database used when ``ECC_DATABASE_URL`` is not set."""
    return data_dir(env) / "ecc.sqlite"


def hub_dir(env: Mapping[str, str] | None = None) -> Path:
    """The hub's database, cookie secret, logins file and analysts' folders."""
    return data_dir(env) / "hub"


def share_key_file(env: Mapping[str, str] | None = None) -> Path:
    """The key that signs ``ecc share`` report links, when ``ECC_SECRET_KEY`` is not set:
    beside the hub's secrets (``ECC_HUB_DIR``), outside the database (owner-only)."""
    folder = variables.value("ECC_HUB_DIR", os.environ if env is None else env)
    return (Path(folder) if folder else hub_dir(env)) / "share-key"


def analysts_dir(env: Mapping[str, str] | None = None) -> Path:
    """Analysts' home folders and their read-only copy of an SQLite database."""
    return data_dir(env) / "analysts"


def mail_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the demo's mail sink writes each message."""
    return data_dir(env) / "mail"


def outputs_dir(env: Mapping[str, str] | None = None) -> Path:
    """Reports, exports and scheduled runs."""
    return home(env) / "outputs"


#: The dashboard notebooks, shipped inside the package (``python -m ecc.ui.notebooks``
#: writes them there and into the repository's ``notebooks/``, the same files).
PACKAGED_NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"


def notebooks_dir() -> Path:
    """The dashboard notebooks that ship with the code (in the package: the same in a
    checkout and in an installed copy)."""
    return PACKAGED_NOTEBOOKS


def schedules_dir(env: Mapping[str, str] | None = None) -> Path:
    """The report schedules (``schedules/*.yaml``): the checkout's (reviewed like code),
    or ``schedules/`` under the project root in an installed copy."""
    shipped = CHECKOUT / "schedules"
    return shipped if (CHECKOUT / "pyproject.toml").is_file() else home(env) / "schedules"


def venv_bin(name: str) -> str:
    """A command of this Python environment (``jupyterhub-singleuser``, ``ecc``)."""
    path = Path(sys.executable).parent / name
    return str(path) if path.exists() else name


def safe_name(text: str, *, limit: int = 120, empty: str = "file") -> str:
    """``text`` as one file-name part: letters, digits, ``.``, ``_`` and ``-`` kept, any
    other run of characters (``/``, ``..`` at the start, spaces, line breaks) made one
    ``-``, at most ``limit`` characters — so a value that came from the data (a CSV's
    csm_id such as ``../../etc``) can never name a file outside its folder."""
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+|\.{2,}", "-", text))
    cleaned = cleaned.lstrip(".-")[:limit].rstrip(".-")
    return cleaned or empty


def private_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """Make the stack's folders (data, hub, mail, outputs) exist and be readable by their
    owner only (0700), as any made under ``ecc``'s umask are; the folders."""
    folders = [data_dir(env), hub_dir(env), mail_dir(env), outputs_dir(env)]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
    return folders
