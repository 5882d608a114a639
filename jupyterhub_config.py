"""The command center's front door for `jupyterhub -f jupyterhub_config.py`: the
configuration ships inside the package (ecc/hub/jupyterhub_config.py), which
`ecc hub start` uses in a checkout and in an installed copy alike."""

load_subconfig("ecc/hub/jupyterhub_config.py")  # type: ignore[name-defined]  # noqa: F821
