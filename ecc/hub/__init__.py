"""The front door (FR-3): JupyterHub login and roles, with the dashboards behind it.

settings.py    the hub's settings (ports, folders, databases, the login mode)
roles.py       vp / admin / analyst as hub groups and roles; refusing anyone else
auth.py        local accounts (NativeAuthenticator) or the company's IdP (OAuth)
native.py      NativeAuthenticator with its login form fixed for JupyterHub 6
config.py      the pieces of jupyterhub_config.py: hub, proxy, JupyterLab, services
dashboards.py  the dashboards service: preheated Voilà with the hub's OAuth on every route
logins.py      local logins for a stopped hub (the demo users, ``ecc hub add-user``)
stack.py       ``ecc hub start``: the whole stack in the foreground
"""
